"""DataLoader batches built as torch's: the container types (a tuple sample gives a list batch, a namedtuple keeps
its type, a dict stays a dict), the dtypes (Python floats float64, ints int64, mixed numbers the default float,
tensors promoted by stack), collate_fn honoured for every dataset and for batch_size=None, and named errors for
what cannot be stacked."""
import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import DTypeError, ShapeError

Pair = collections.namedtuple("Pair", "a b")


class Records:
    """Map-style dataset of dict samples with every kind of field."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": self.lib.ones(2) * i, "y": i, "name": f"n{i}", "f": 0.5 * i, "a": np.arange(3) * i,
                "pair": (i, [i, i])}


def _stream(data, n):
    """An IterableDataset of data's (torch's or chainrule's) yielding 0…n-1."""
    return type("Stream", (data.IterableDataset,), {"__iter__": lambda self: iter(range(n))})()


SCENARIOS = {   # id -> function of (lib, its data module) -> (dataset, DataLoader keywords)
    "tensor_dataset": lambda L, D: (D.TensorDataset(L.arange(5.0), L.arange(5)), dict(batch_size=2)),
    "tensor_dataset_unbatched": lambda L, D: (D.TensorDataset(L.arange(3.0)), dict(batch_size=None)),
    "tensor_dataset_collate_fn": lambda L, D: (D.TensorDataset(L.arange(4.0), L.arange(4)), dict(
        batch_size=2, collate_fn=lambda b: (len(b), type(b).__name__, type(b[0]).__name__))),
    "records": lambda L, D: (Records(L), dict(batch_size=2)),
    "ints": lambda L, D: ([1, 2, 3, 4], dict(batch_size=3)),
    "int_then_float": lambda L, D: ([1, 2.5], dict(batch_size=2)),
    "bools": lambda L, D: ([True, False, True], dict(batch_size=2)),
    "arrays_float32": lambda L, D: ([np.ones(2, dtype=np.float32) * i for i in range(3)], dict(batch_size=2)),
    "arrays_float64_unbatched": lambda L, D: ([np.ones(2) * i for i in range(2)], dict(batch_size=None)),
    "numpy_scalars": lambda L, D: ([np.float32(1), np.float32(2)], dict(batch_size=2)),
    "strings": lambda L, D: (["a", "b", "c"], dict(batch_size=2)),
    "namedtuples": lambda L, D: ([Pair(1, 2.0), Pair(3, 4.0)], dict(batch_size=2)),
    "namedtuple_unbatched": lambda L, D: ([Pair(np.ones(1), 2.0)], dict(batch_size=None)),
    "nested_lists_of_dicts": lambda L, D: ([[{"a": 1}], [{"a": 2}]], dict(batch_size=2)),
    "tensors_of_two_dtypes": lambda L, D: ([L.tensor([1]), L.tensor([1.5])], dict(batch_size=2)),
    "stream": lambda L, D: (_stream(D, 5), dict(batch_size=2, drop_last=True)),
    "concat_unbatched_arrays": lambda L, D: (D.ConcatDataset([[np.ones(1)]]), dict(
        batch_size=None)),
    "unbatched_collate_fn": lambda L, D: (list(range(3)), dict(batch_size=None, collate_fn=lambda s: s * 10)),
    "stack_dataset": lambda L, D: (D.StackDataset(L.arange(3.0), L.arange(3)), dict(batch_size=2)),
}


def _describe(x):
    """The structure of a batch: container types, tensor shapes and dtypes, other values."""
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [_describe(i) for i in x]
    if isinstance(x, dict):
        return {k: _describe(v) for k, v in x.items()}
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.ndarray):
        return "tensor", tuple(x.shape), str(x.dtype).split(".")[-1], x.detach().numpy().tolist()
    return x


@pytest.mark.parametrize("name", SCENARIOS)
def test_batches_have_torchs_structure(name):
    torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run it")
    from torch.utils import data as torch_data
    theirs = [_describe(b) for b in _loader(torch, torch_data, name)]
    ours = [_describe(b) for b in _loader(cr, cr.utils.data, name)]
    assert ours == theirs


def _loader(lib, data, name):
    dataset, kwargs = SCENARIOS[name](lib, data)
    return data.DataLoader(dataset, **kwargs)


def test_a_tuple_sample_gives_a_list_batch_and_a_namedtuple_keeps_its_type():
    ds = cr.utils.data.TensorDataset(cr.arange(4.0), cr.arange(4))
    x, y = batch = next(iter(cr.utils.data.DataLoader(ds, batch_size=3)))
    assert type(batch) is list and x.tolist() == [0.0, 1.0, 2.0] and y.dtype == cr.int64
    batch = next(iter(cr.utils.data.DataLoader([Pair(1, 2.0), Pair(3, 4.0)], batch_size=2)))
    assert type(batch) is Pair and batch.a.dtype == cr.int64 and batch.b.dtype == cr.float64


def test_collate_fn_is_called_for_a_tensor_dataset_and_for_single_samples():
    ds = cr.utils.data.TensorDataset(cr.arange(4.0))
    seen = [b for b in cr.utils.data.DataLoader(ds, batch_size=2, collate_fn=lambda b: len(b))]
    assert seen == [2, 2]
    assert list(cr.utils.data.DataLoader([1, 2], batch_size=None, collate_fn=lambda s: -s)) == [-1, -2]
    converted = list(cr.utils.data.DataLoader([np.ones(2)], batch_size=None))
    assert isinstance(converted[0], cr.Tensor)


def test_stacking_keeps_a_samples_graph():
    w = cr.ones(2, requires_grad=True)
    batch = next(iter(cr.utils.data.DataLoader([w * 2, w * 3], batch_size=2)))
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


@pytest.mark.parametrize("samples, error, words", [
    ([np.ones(1), np.ones(2)], ShapeError, r"shapes \[\(1,\), \(2,\)\] cannot be stacked.*pad_sequence"),
    ([cr.ones(1), cr.ones(2)], ShapeError, r"shapes \[\(1,\), \(2,\)\]"),
    ([object(), object()], DTypeError, "found object.*collate_fn"),
    ([None, None], DTypeError, "found NoneType"),
    ([np.array(["a"]), np.array(["b"])], DTypeError, "dtype <U1"),
])
def test_what_cannot_be_stacked_is_named(samples, error, words):
    with pytest.raises(error, match=f"default_collate: .*{words}"):
        next(iter(cr.utils.data.DataLoader(samples, batch_size=2)))
