"""torch.nn.utils.rnn's padding helper for batches of variable-length sequences."""
import numpy as np

from ...ops.registry import T, register, sample
from ...ops.shape import pad, stack
from ...tensor import Tensor


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


register("pad_sequence", ref=_np_pad_sequence,
         samples=[sample([T((3, 2)), T((1, 2)), T((2, 2))]),
                  sample([T((2,)), T((4,))], batch_first=True, padding_value=-1.0, padding_side="left")])(pad_sequence)
