"""Tensors print as torch prints them (torch/_tensor_str.py's algorithm): one formatter for the whole tensor (or
for its summarized edges, when it has more than `threshold` elements), fixed-width entries, a fixed number of
entries per line, ' ...' standing in for the elided ones.

Floats: whole numbers print as '3.', others with `precision` digits, both switching to scientific notation when
the finite nonzero magnitudes span more than 10³ or leave [1e-4, 1e8]; width from the finite nonzero entries.
"""
import math

import numpy as np

# torch.set_printoptions changes these (chainrule.set_printoptions); the defaults are torch's "default" profile
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


class _Formatter:
    def __init__(self, arr, opts):
        self.floating = arr.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        self.precision = opts["precision"]
        flat = arr.reshape(-1)
        if not self.floating:
            self.max_width = max([self.max_width] + [len(str(v)) for v in flat.tolist()])
            return
        with np.errstate(all="ignore"):
            values = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if values.size == 0:
            return
        mags = np.abs(values)
        big, small = mags.max(), mags.min()
        self.int_mode = bool((values == np.ceil(values)).all())
        self.sci_mode = (big / small > 1000.0 or big > 1.0e8 or small < 1.0e-4) if opts["sci_mode"] is None \
            else opts["sci_mode"]
        items = values.tolist()
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{self.precision}e}") for v in items)
        elif self.int_mode:
            self.max_width = max(len(f"{v:.0f}") + 1 for v in items)
        else:
            self.max_width = max(len(f"{v:.{self.precision}f}") for v in items)

    def format(self, value):
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{self.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
            else:
                text = f"{value:.{self.precision}f}"
        else:
            text = f"{value}"
        return " " * (self.max_width - len(text)) + text


def _summarized(arr, edge):
    """The entries that print when the tensor is summarized: the first and last `edge` along every dim."""
    for axis in range(arr.ndim):
        if arr.shape[axis] > 2 * edge:
            arr = np.concatenate([np.take(arr, range(edge), axis),
                                  np.take(arr, range(arr.shape[axis] - edge, arr.shape[axis]), axis)], axis)
    return arr


def _vector(arr, indent, summarize, fmt, opts):
    edge = opts["edgeitems"]
    per_line = max(1, math.floor((opts["linewidth"] - indent) / (fmt.max_width + 2)))
    if summarize and not edge:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * edge:
        data = [fmt.format(v) for v in arr[:edge].tolist()] + [" ..."] + [fmt.format(v) for v in arr[-edge:].tolist()]
    else:
        data = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(arr, indent, summarize, fmt, opts):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, fmt, opts)
    edge = opts["edgeitems"]
    if summarize and arr.shape[0] > 2 * edge:
        rows = list(range(edge)) + [None] + list(range(arr.shape[0] - edge, arr.shape[0]))
    else:
        rows = range(arr.shape[0])
    slices = ["..." if i is None else _nested(arr[i], indent + 1, summarize, fmt, opts) for i in rows]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def tensor_body(arr, indent=len("tensor(")):
    """The bracketed values of a non-empty array as torch's repr shows them."""
    opts = PRINT_OPTIONS
    if arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    summarize = arr.size > opts["threshold"]
    fmt = _Formatter(_summarized(arr, opts["edgeitems"]) if summarize else arr, opts)
    return _nested(arr, indent, summarize, fmt, opts)


def with_suffixes(text, suffixes, indent=len("tensor(")):
    """torch's _add_suffixes: ', dtype=…' and the like after the values, each on a new line when the current
    line would pass the line width."""
    parts, last = [text], len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        # decide as torch does for its own text ('torch.float64' is 4 characters shorter than 'chainrule.float64'),
        # so that a tensor breaks its lines where torch's would
        if last + len(suffix.replace("chainrule.", "torch.")) + 2 > PRINT_OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"
