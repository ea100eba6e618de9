"""The memory under a tensor, as torch's Tensor.untyped_storage() / storage() show it: a view (x[2:], x.T,
x.view(…)) and its base report one storage with one data_ptr, which is how a lesson on views shows that they
share memory. The storage is the NumPy array that owns the bytes."""
import numpy as np


def owner(array):
    """The array that owns array's memory (array itself, or the base of its base …)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class UntypedStorage:
    """The bytes (torch.UntypedStorage): data_ptr(), nbytes(), size() = len() in bytes, tolist() of bytes."""
    __slots__ = ("_root",)

    def __init__(self, root):
        self._root = root

    def data_ptr(self):
        return self._root.__array_interface__["data"][0]

    def nbytes(self):
        return self._root.nbytes

    def size(self):
        return self.nbytes() // self.element_size()

    def __len__(self):
        return self.size()

    def element_size(self):
        return 1

    def _values(self):
        return np.ascontiguousarray(self._root).reshape(-1).view(np.uint8)

    def tolist(self):
        return self._values().tolist()

    def __getitem__(self, index):
        return self._values()[index].tolist()

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size()}, data_ptr={self.data_ptr():#x})"


class TypedStorage(UntypedStorage):
    """The same memory read as the tensor's dtype (torch.TypedStorage, what Tensor.storage() returns): size() in
    elements."""
    __slots__ = ("dtype",)

    def __init__(self, root, dtype):
        super().__init__(root)
        self.dtype = dtype

    def element_size(self):
        return self.dtype.itemsize

    def _values(self):
        return super()._values().view(self.dtype)


def untyped_storage(tensor):
    return UntypedStorage(owner(tensor._data))


def storage(tensor):
    return TypedStorage(owner(tensor._data), tensor._data.dtype)
