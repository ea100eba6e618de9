"""torch.nn.utils.rnn's padding helper for batches of variable-length sequences."""
import numpy as np

from ... import dtypes
from ...ops.registry import T, register, sample
from ...ops.shape import pad, stack
from ...tensor import Tensor
from ...ops._util import as_array


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of pad_sequence: the list of sequences, each cut to its length (differentiable slices)."""
    padded = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lengths = lengths.tolist() if hasattr(lengths, "tolist") else list(lengths)
    if len(lengths) != padded.shape[0]:
        raise ValueError(f"unpad_sequence: {len(lengths)} lengths for a batch of {padded.shape[0]} sequences")
    return [padded[i, :int(n)] for i, n in enumerate(lengths)]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shape (L_i, *) into (L_max, B, *) (or (B, L_max, *) with batch_first), padding each
    to L_max with padding_value; differentiable, the padding gets no gradient."""
    if not sequences:
        raise ValueError("pad_sequence: got no sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    tail = sequences[0].shape[1:]
    if any(not isinstance(s, Tensor) or s.ndim < 1 or s.shape[1:] != tail for s in sequences):
        raise ValueError(f"pad_sequence: every sequence must be a tensor (L_i, *{tail}); got shapes "
                         f"{[tuple(getattr(s, 'shape', ())) for s in sequences]}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        widths = [0, 0] * len(tail) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(pad(s, tuple(widths), value=padding_value) if extra else s)
    return stack(padded, dim=0 if batch_first else 1)


def _np_pad_sequence(seqs, batch_first=False, padding_value=0.0, padding_side="right"):
    longest = max(len(s) for s in seqs)
    out = np.full((len(seqs), longest) + seqs[0].shape[1:], padding_value, seqs[0].dtype)
    for i, s in enumerate(seqs):
        if padding_side == "right":
            out[i, :len(s)] = s
        else:
            out[i, longest - len(s):] = s
    return out if batch_first else out.swapaxes(0, 1)


pad_sequence = register("pad_sequence", ref=_np_pad_sequence,
         samples=[sample([T((3, 2)), T((1, 2)), T((2, 2))]),
                  sample([T((2,)), T((4,))], batch_first=True, padding_value=-1.0, padding_side="left")])(pad_sequence)


def invert_permutation(permutation):
    """The permutation q with q[p[i]] = i (torch.nn.utils.rnn.invert_permutation); None stays None."""
    if permutation is None:
        return None
    p = as_array(permutation).astype(np.int64, copy=False)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size)
    return Tensor._wrap(inverse)


class PackedSequence(tuple, dtypes.FloatCasts, dtypes.IntCasts):
    """torch's PackedSequence: the steps of variable-length sequences without padding. data holds, time step by
    time step, the entries of the sequences still running at that step (longest first), batch_sizes[t] how many
    those are; sorted_indices maps that order to the batch's, unsorted_indices back."""
    __slots__ = ()

    def __new__(cls, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return tuple.__new__(cls, (data, batch_sizes, sorted_indices, unsorted_indices))

    data = property(lambda self: self[0])
    batch_sizes = property(lambda self: self[1])
    sorted_indices = property(lambda self: self[2])
    unsorted_indices = property(lambda self: self[3])

    def to(self, *args, **kwargs):
        """The same sequences with data converted as Tensor.to (dtype / device); the index tensors follow the
        device only, and batch_sizes stays as it is (torch's rule)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        moved = [None if t is None else t.to(device=data.device) for t in (self.sorted_indices,
                                                                           self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *moved)

    def cpu(self, *args, **kwargs):
        return self.to(*args, device="cpu", **kwargs)

    def cuda(self, *args, **kwargs):
        return self.to(*args, device="cuda", **kwargs)

    def pin_memory(self):
        return type(self)(self.data.pin_memory(), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def is_pinned(self):
        return self.data.is_pinned()

    is_cuda = property(lambda self: self.data.is_cuda)
    def __repr__(self):
        return (f"PackedSequence(data={self.data!r}, batch_sizes={self.batch_sizes!r}, "
                f"sorted_indices={self.sorted_indices!r}, unsorted_indices={self.unsorted_indices!r})")


def _lengths(lengths, batch, name):
    n = as_array(lengths).astype(np.int64).reshape(-1)
    if n.shape != (batch,) or (n.size and (n.min() < 1)):
        raise ValueError(f"{name}: expected {batch} lengths ≥ 1 (one per sequence in the batch), got {n.tolist()}")
    return n


def _pack_time_major(x, lengths, sorted_indices):
    """(T, B, *) in batch order -> PackedSequence, sequences taken in the order sorted_indices (None: as they are,
    already longest first)."""
    from ...ops.shape import cat
    order = sorted_indices._data if sorted_indices is not None else np.arange(len(lengths))
    n = lengths[order]
    if x.shape[0] < n.max():
        raise ValueError(f"pack_padded_sequence: the longest length {n.max()} exceeds the {x.shape[0]} time steps "
                         f"of the input {x.shape}")
    if sorted_indices is not None:
        x = x.index_select(1, sorted_indices)
    batch_sizes = np.array([(n > t).sum() for t in range(int(n.max()))], np.int64)
    data = cat([x[t, :int(b)] for t, b in enumerate(batch_sizes)], dim=0)
    return PackedSequence(data, Tensor._wrap(batch_sizes), sorted_indices)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """A padded batch (T, B, *) (or (B, T, *) with batch_first) and each sequence's length -> PackedSequence, which
    recurrent layers run without stepping over the padding. enforce_sorted=True needs lengths sorted longest
    first; False sorts them (and the output of the layer comes back in the batch's own order)."""
    x = input.transpose(0, 1) if batch_first else input
    n = _lengths(lengths, x.shape[1], "pack_padded_sequence")
    if enforce_sorted:
        if np.any(np.diff(n) > 0):
            raise ValueError(f"pack_padded_sequence: lengths {n.tolist()} are not sorted longest first; sort the "
                             f"batch, or pass enforce_sorted=False")
        sorted_indices = None
    else:
        sorted_indices = Tensor._wrap(np.argsort(-n, kind="stable"))
    return _pack_time_major(x, n, sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """PackedSequence -> (padded (T, B, *) or (B, T, *), lengths (B,) int64), in the batch's own order: the inverse
    of pack_padded_sequence (differentiable; the padding gets no gradient)."""
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    sizes = batch_sizes._data.astype(np.int64)
    T_, B = len(sizes), int(sizes[0])
    if total_length is not None:
        if total_length < T_:
            raise ValueError(f"pad_packed_sequence: total_length {total_length} is shorter than the longest sequence "
                             f"({T_} steps)")
        T_ = total_length
    steps, start = [], 0
    for b in sizes:
        step = data[start:start + int(b)]
        start += int(b)
        steps.append(pad(step, (0, 0) * (data.ndim - 1) + (0, B - int(b)), value=padding_value) if b < B else step)
    while len(steps) < T_:
        steps.append(Tensor._wrap(np.full((B,) + tuple(data.shape[1:]), padding_value, data.dtype)))
    out = stack(steps, dim=0)
    lengths = np.array([(sizes > i).sum() for i in range(B)], np.int64)
    if unsorted_indices is not None:
        out = out.index_select(1, unsorted_indices)
        lengths = lengths[unsorted_indices._data]
    return (out.transpose(0, 1) if batch_first else out), Tensor._wrap(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """A list of (L_i, *) tensors -> PackedSequence (pad_sequence then pack_padded_sequence)."""
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """PackedSequence -> the list of (L_i, *) tensors, in the batch's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :int(n)] for i, n in enumerate(lengths._data)]


def run_packed(run, packed, hx, lstm):
    """A recurrent layer over a PackedSequence: `run(x (T, b, F), hx) -> (out (T, b, H'), state)` is called once per
    distinct length on the sequences of that length, so no step sees padding and each final state is taken at its
    sequence's own last step (the reverse direction starts there too). Returns (PackedSequence, state) with the
    state in the batch's order, as torch."""
    from ...ops.shape import cat
    x, lengths = pad_packed_sequence(packed)
    n = lengths._data
    T_ = x.shape[0]
    outs, states, order = [], [], []
    for length in sorted(set(n.tolist()), reverse=True):
        idx = np.flatnonzero(n == length)
        sel = Tensor._wrap(idx)
        h = None if hx is None else (tuple(s.index_select(1, sel) for s in hx) if lstm else hx.index_select(1, sel))
        out, state = run(x[:length].index_select(1, sel), h)
        if length < T_:
            out = pad(out, (0, 0, 0, 0, 0, T_ - length))
        outs.append(out)
        states.append(state)
        order.extend(idx.tolist())
    back = Tensor._wrap(np.argsort(np.array(order), kind="stable"))
    out = cat(outs, dim=1).index_select(1, back)
    if lstm:
        state = tuple(cat([s[k] for s in states], dim=1).index_select(1, back) for k in range(2))
    else:
        state = cat(states, dim=1).index_select(1, back)
    return _pack_time_major(out, n, packed.sorted_indices), state
