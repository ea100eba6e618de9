"""Dataset, TensorDataset, IterableDataset, DataLoader, and the reference texts' training variants as one switch:

    batch      one update per epoch on all samples (full-batch gradient descent)
    minibatch  one update per batch of `batch_size` shuffled samples
    sgd        one update per sample, shuffled each epoch (stochastic gradient descent)
    online     one update per sample of a stream, each sample seen once
"""
import numpy as np

from ..dtypes import get_default_dtype
from ..errors import DTypeError, ShapeError
from ..random import _gen
from ..tensor import Tensor
from .sampler import BatchSampler


class Dataset:
    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class IterableDataset:
    """A stream of samples (online learning): iterated once, never indexed."""

    def __iter__(self):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors, which must have the same first dim."""

    def __init__(self, *tensors):
        n = {t.shape[0] for t in tensors}
        if len(n) != 1:
            raise ValueError(f"TensorDataset: tensors must have the same number of rows, got "
                             f"{[t.shape for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of dataset at the given indices."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, [int(i) for i in indices]

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        self.ends = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        k = int(np.searchsorted(self.ends, index, side="right"))
        return self.datasets[k][index - (self.ends[k - 1] if k else 0)]

    def __len__(self):
        return self.ends[-1] if self.ends else 0


def random_split(dataset, lengths, generator=None):
    """Disjoint random Subsets of the given lengths (or fractions summing to 1, as torch: the remainder goes
    round-robin to the first splits)."""
    n = len(dataset)
    if lengths and all(0 <= f <= 1 for f in lengths) and abs(sum(lengths) - 1) < 1e-9 and sum(lengths) != n:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} sum to {sum(lengths)} but the dataset has {n} "
                         f"samples; give lengths that sum to {n} or fractions that sum to 1")
    order = _gen(generator).permutation(n)
    bounds = np.cumsum([0] + list(lengths))
    return [Subset(dataset, order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]


class _StreamDataset(IterableDataset):
    def __init__(self, dataset, generator=None):
        self.dataset, self.generator = dataset, generator

    def __iter__(self):
        order = _gen(self.generator).permutation(len(self.dataset))
        for i in order:
            yield self.dataset[int(i)]


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_collate(samples):
    """A list of samples -> one batch (torch.utils.data.default_collate): tensors and arrays are stacked along a
    new first dim, numbers become a 1-d tensor (Python floats float64, ints int64), strings stay a list, and dicts,
    namedtuples, tuples and lists are collated field by field: a dict stays a dict, a namedtuple its type, a tuple
    or list becomes a list (as torch's)."""
    first = samples[0]
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError(f"default_collate: every sample must have {len(first)} fields like the first, got "
                             f"lengths {sorted({len(s) for s in samples})}")
        fields = [default_collate([s[i] for s in samples]) for i in range(len(first))]
        return type(first)(*fields) if _is_namedtuple(first) else fields
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, (Tensor, np.ndarray)):
        shapes = {tuple(np.shape(s)) for s in samples}
        if len(shapes) > 1:
            raise ShapeError(f"default_collate: samples of shapes {sorted(shapes)} cannot be stacked into one batch; "
                             f"pad them to one shape, or pass a collate_fn (e.g. one that calls "
                             f"nn.utils.rnn.pad_sequence)")
    if isinstance(first, Tensor):   # torch.stack: dtypes promote, and a sample's graph is kept
        from ..ops.shape import stack
        return stack(samples)
    batch = np.stack(samples) if isinstance(first, np.ndarray) else np.asarray(samples)
    if batch.dtype.kind not in "biuf":
        raise DTypeError(f"default_collate: a batch must hold tensors, NumPy arrays, numbers, strings, dicts or "
                         f"lists; found {type(first).__name__} (dtype {batch.dtype}). Pass a collate_fn for it")
    if isinstance(first, int) and batch.dtype.kind == "f":   # torch.tensor([1, 2.5]): the default float
        batch = batch.astype(get_default_dtype())
    return Tensor._wrap(batch)


def default_convert(data):
    """NumPy arrays (also inside dicts, tuples and lists) become tensors; everything else is left as it is. A tuple
    becomes a list, a namedtuple keeps its type (as torch's)."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return Tensor._wrap(data)
    if isinstance(data, dict):
        return {k: default_convert(v) for k, v in data.items()}
    if _is_namedtuple(data):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(v) for v in data]
    return data


def get_worker_info():
    """None: chainrule loads batches in the calling process (the main process, in torch's terms)."""
    return None


class StackDataset(Dataset):
    """Datasets of one length side by side: item i is the tuple (or, with keywords, the dict) of their items i."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: pass the datasets either positionally (tuples) or by keyword (dicts)")
        self.datasets = args or kwargs
        parts = args or tuple(kwargs.values())
        if not parts:
            raise ValueError("StackDataset: needs at least one dataset")
        lengths = {len(d) for d in parts}
        if len(lengths) != 1:
            raise ValueError(f"StackDataset: the datasets have different lengths {sorted(lengths)}")
        self._length = lengths.pop()

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class ChainDataset(IterableDataset):
    """Iterable datasets one after another (torch.utils.data.ChainDataset)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d


class DataLoader:
    """Batches of a dataset, as torch.utils.data.DataLoader (same arguments, same order). The indices come from
    `sampler` or `batch_sampler` (chainrule.data.sampler) when given, else 0…n-1, shuffled with shuffle=True;
    batch_size=None yields single samples (default_convert'ed). A TensorDataset is sliced directly (one fancy
    index per batch) unless a collate_fn is given; anything else is collated sample by sample. Loading runs in the
    calling process: num_workers, pin_memory and the other worker options are accepted so that PyTorch scripts
    run, and change nothing."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be ≥ 1 (or None for unbatched samples), got {batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive; the sampler decides the "
                             "order (use RandomSampler for a shuffled one)")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler gives whole batches, so it excludes batch_size, shuffle, "
                             "sampler and drop_last")
        if isinstance(dataset, IterableDataset) and (sampler is not None or batch_sampler is not None or shuffle):
            raise ValueError("DataLoader: a stream (IterableDataset) has no indices to sample or shuffle")
        self.dataset, self.shuffle, self.generator = dataset, bool(shuffle), generator
        self.batch_size = None if batch_sampler is not None else batch_size
        batched = self.batch_size is not None or batch_sampler is not None
        # torch's defaults: batches are collated, single samples (batch_size=None) only converted
        self.drop_last, self.collate_fn = drop_last, collate_fn or (default_collate if batched else default_convert)
        self.sampler, self.batch_sampler = sampler, batch_sampler

    def _order(self):
        """Dataset indices in reading order: the sampler's, else 0…n-1 (a fresh permutation with shuffle=True)."""
        if self.sampler is not None:
            return self.sampler
        n = len(self.dataset)
        return _gen(self.generator).permutation(n) if self.shuffle else np.arange(n)

    def _batches(self):
        """One index list (or array) per batch."""
        if self.batch_sampler is not None:
            return self.batch_sampler
        order = self._order()
        if isinstance(order, np.ndarray):   # the default order: slices of one index array
            n = len(order)
            stop = n - n % self.batch_size if self.drop_last else n
            return (order[lo:lo + self.batch_size] for lo in range(0, stop, self.batch_size))
        return BatchSampler(order, self.batch_size, self.drop_last)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            raise TypeError("DataLoader over a stream (IterableDataset) has no length")
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            if self.batch_size is None:
                yield from map(self.collate_fn, self.dataset)
                return
            for batch in BatchSampler(self.dataset, self.batch_size, self.drop_last):   # groups any iterable
                yield self.collate_fn(batch)
            return
        if self.batch_size is None and self.batch_sampler is None:   # unbatched: each sample as it is
            for i in self._order():
                yield self.collate_fn(self.dataset[int(i)])
            return
        sliced = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for idx in self._batches():
            if sliced:   # what default_collate would stack, in one fancy index per tensor
                idx = np.asarray(idx, dtype=np.int64)
                yield [Tensor._wrap(t._data[idx]) for t in self.dataset.tensors]
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in idx])


VARIANTS = ("batch", "minibatch", "sgd", "online")


def make_loader(dataset, variant="minibatch", batch_size=32, generator=None):
    """The texts' training variants as one switch (see the module docstring)."""
    if variant == "batch":
        return DataLoader(dataset, batch_size=len(dataset), shuffle=False)
    if variant == "minibatch":
        return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
    if variant == "sgd":
        return DataLoader(dataset, batch_size=1, shuffle=True, generator=generator)
    if variant == "online":
        return DataLoader(_StreamDataset(dataset, generator), batch_size=1)
    raise ValueError(f"make_loader: variant must be one of {VARIANTS}, got {variant!r}")
