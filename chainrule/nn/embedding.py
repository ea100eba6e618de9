"""Embedding tables: lookups (Embedding) and pooled lookups (EmbeddingBag), composed from registered ops (indexing,
index_add), so their gradients are those ops': repeated indices accumulate."""
import numpy as np

from .. import creation, dtypes
from ..autograd.grad_mode import no_grad, note_write
from ..errors import ShapeError
from . import init
from .module import Module
from .parameter import Parameter
from ..ops._util import as_array


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by integer indices; the padding row gets no gradient. max_norm renormalises, in place
    and outside the graph, each looked-up row whose norm exceeds it (torch's behaviour, which changes the weight)."""
    idx = _indices(input, weight, "embedding")
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; the gradient is a dense array "
                                  "with repeated indices summed (pass sparse=False)")
    padding_idx = _padding_row(padding_idx, weight.shape[0], "embedding")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    out = weight[idx]
    from ..tensor import Tensor
    if padding_idx is not None:   # the padding row gets no gradient, as in PyTorch
        from ..ops.elementwise import where
        mask = Tensor._wrap((idx == padding_idx)[..., None])
        out = where(mask, out.detach(), out)
    if scale_grad_by_freq:
        out = _gradient_over_frequency(out, idx, idx)
    return out


def _gradient_over_frequency(rows, picked, indices):
    """rows (looked up at the indices `picked`) unchanged in value, but each one's gradient divided by how often
    its index occurs in `indices` (torch's scale_grad_by_freq: a frequent word's row does not take a step per
    occurrence). rows - rows is exactly 0, so the value is rows' own."""
    if not rows.requires_grad:
        return rows
    from ..tensor import Tensor
    uniques, counts = np.unique(indices, return_counts=True)
    count_of_picked = counts[np.searchsorted(uniques, picked)]
    frozen = rows.detach()
    return frozen + (rows - frozen) * Tensor._wrap((1.0 / count_of_picked)[..., None].astype(rows.dtype))


def _indices(input, weight, name):
    if weight.ndim != 2:
        raise ShapeError(f"{name}: the weight must be a 2-d table (num_embeddings, embedding_dim), got shape "
                         f"{tuple(weight.shape)}")
    idx = input._data if hasattr(input, "_data") else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= weight.shape[0]):
        raise IndexError(f"{name}: indices must be in [0, {weight.shape[0]}), got min {idx.min()}, max {idx.max()}")
    return idx


def _padding_row(padding_idx, n, name):
    """padding_idx as a row in [0, n) (torch allows it negative, counted from the end); None stays None."""
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise ValueError(f"{name}: padding_idx {padding_idx} is out of range for {n} embeddings")
    return padding_idx % n


def _fresh_table(num_embeddings, embedding_dim, padding_idx, dtype):
    """A (num_embeddings, embedding_dim) parameter drawn from N(0, 1), with the padding row zeroed."""
    weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype or dtypes.get_default_dtype()))
    init.normal_(weight)
    if padding_idx is not None:
        with no_grad():
            weight[padding_idx] = 0.0
    return weight


def _renorm_rows(weight, idx, max_norm, norm_type):
    """weight[i] *= max_norm / (‖weight[i]‖ + 1e-7) for the looked-up rows whose norm exceeds max_norm."""
    rows = np.unique(idx)
    w = weight._data
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        weight._version = note_write(w)


class Embedding(Module):
    """A lookup table of num_embeddings vectors, initialised N(0, 1) (padding row at 0)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding_row(padding_idx, num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = _fresh_table(num_embeddings, embedding_dim, self.padding_idx, dtype)
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight.detach().clone(), requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding the given (num_embeddings, embedding_dim) table; frozen (no gradient) by default."""
        if embeddings.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {embeddings.shape}")
        return cls(*embeddings.shape, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        return embedding(input, self._own("weight"), self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{extra}" + \
            (f", max_norm={self.max_norm}" if self.max_norm is not None else "")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sum, mean or max of the embeddings of each bag, without materialising (bags, length, dim) padding. Bags
    are the rows of a 2-D input, or for a 1-D input the runs starting at each offset. Entries equal to padding_idx
    are left out (and not counted by the mean); an empty bag gives zeros. per_sample_weights scale each looked-up
    row (mode 'sum' only)."""
    from ..ops.shape import stack
    from ..tensor import Tensor
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    idx = _indices(input, weight, "embedding_bag")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None for a 2-D input (each row is a bag)")
        starts = np.arange(0, idx.size, idx.shape[1]) if idx.shape[1] else np.zeros(idx.shape[0], np.int64)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: a 1-D input needs offsets (the start of each bag)")
        starts = as_array(offsets).astype(np.int64).reshape(-1)
        if include_last_offset:
            starts = starts[:-1]
        if starts.size and (starts[0] != 0 or np.any(np.diff(starts) < 0) or starts[-1] > idx.size):
            raise ValueError(f"embedding_bag: offsets must start at 0 and be non-decreasing within the input's "
                             f"{idx.size} entries, got {starts.tolist()[:8]}")
    else:
        raise ShapeError(f"embedding_bag: input must be 1-D (with offsets) or 2-D, got shape {idx.shape}")
    flat = idx.reshape(-1)
    bag = np.zeros(flat.size, np.int64)
    if starts.size > 1:
        np.add.at(bag, starts[1:][starts[1:] < flat.size], 1)
        bag = np.cumsum(bag)
    keep = np.ones(flat.size, bool)
    padding_idx = _padding_row(padding_idx, weight.shape[0], "embedding_bag")
    if padding_idx is not None:
        keep = flat != padding_idx
    if max_norm is not None:
        _renorm_rows(weight, flat[keep], max_norm, norm_type)
    rows = weight[flat[keep]]
    if scale_grad_by_freq:
        if mode == "max":
            raise ValueError("embedding_bag: mode='max' does not support scale_grad_by_freq (as in torch)")
        # the documented rule, as embedding's: each row's gradient over its index's count in the input. (torch's
        # embedding_bag divides some rows by a neighbouring index's count instead: for [[0, 1, 2], [3, 3, 4]] it
        # gives row 4 a gradient of 1/2)
        rows = _gradient_over_frequency(rows, flat[keep], flat)
    if sparse:
        raise NotImplementedError("embedding_bag: sparse gradients are not supported; the gradient is a dense "
                                  "array with repeated indices summed (pass sparse=False)")
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"embedding_bag: per_sample_weights need mode='sum', got mode={mode!r}")
        psw = per_sample_weights.reshape(-1)
        if psw.shape[0] != flat.size:
            raise ShapeError(f"embedding_bag: per_sample_weights has {psw.shape[0]} entries, the input {flat.size}")
        rows = rows * psw[Tensor._wrap(np.flatnonzero(keep))].unsqueeze(1)
    n_bags, dim = starts.size, weight.shape[1]
    bag = bag[keep]
    if mode == "max":
        ends = np.searchsorted(bag, np.arange(n_bags), side="right")
        begins = np.searchsorted(bag, np.arange(n_bags), side="left")
        zero = creation.zeros(dim, dtype=weight.dtype)
        return stack([rows[b:e].amax(dim=0) if e > b else zero for b, e in zip(begins, ends)]) if n_bags else \
            creation.zeros(0, dim, dtype=weight.dtype)
    out = creation.zeros(n_bags, dim, dtype=weight.dtype).index_add(0, Tensor._wrap(bag), rows)
    if mode == "mean":
        counts = np.bincount(bag, minlength=n_bags).astype(weight.dtype)
        out = out * Tensor._wrap((1 / np.maximum(counts, 1))[:, None])
    return out


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (torch.nn.EmbeddingBag); weight initialised N(0, 1)."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim, self.mode = num_embeddings, embedding_dim, mode
        self.max_norm, self.norm_type, self.include_last_offset = max_norm, norm_type, include_last_offset
        self.padding_idx = _padding_row(padding_idx, num_embeddings, "EmbeddingBag")
        if _weight is not None:
            self.weight = Parameter(_weight.detach().clone())
        else:
            self.weight = _fresh_table(num_embeddings, embedding_dim, self.padding_idx, dtype)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, mode=self.mode,
                             per_sample_weights=per_sample_weights, include_last_offset=self.include_last_offset,
                             padding_idx=self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"


def _register():
    from ..ops.registry import T, register, sample
    register("embedding_bag", ref=None,
             samples=[sample(np.array([[0, 2], [2, 1]]), T((3, 4))),
                      sample(np.array([0, 1, 1, 2, 0]), T((3, 2)), np.array([0, 2, 2]), mode="sum"),
                      sample(np.array([0, 1, 2, 2]), T((3, 2)), np.array([0, 3]), mode="max"),
                      sample(np.array([0, 1, 2, 2]), T((3, 2)), np.array([0, 1]), None, 2, False, "sum", False,
                             T((4,)))])(embedding_bag)
    register("embedding", ref=lambda i, w, padding_idx=None: w[i],
             samples=[sample(np.array([[0, 2], [2, 1]]), T((3, 4))), sample(np.array([0, 1, 1, 0]), T((3, 2)))])(embedding)



_register()
