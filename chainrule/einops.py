"""torch.func.rearrange: einops' reader-friendly reordering, "b (h w) c -> b c h w", as one reshape, one permute
and one reshape, so it differentiates through those (its gradient is the inverse rearrangement).

A side of the pattern is a list of dims, each a name, a group "(h w)" of names (one dim of size h·w, h the slower),
"..." for the dims not named, or "1" / "()" for a dim of size 1. Both sides name the same axes; a length the input
does not fix (one name of a group) comes from axes_lengths or is inferred, at most one per group."""
import math

from .errors import ShapeError
from .ops.registry import T, register, sample

_ELLIPSIS = "…"


def _parse(side, where, pattern):
    """'b (h w) ... c' -> [['b'], ['h', 'w'], '…', ['c']]; '1' and '()' -> []."""
    groups, current = [], None
    for token in side.replace("(", " ( ").replace(")", " ) ").replace("...", f" {_ELLIPSIS} ").split():
        if token == "(":
            if current is not None:
                raise ValueError(f"rearrange: nested parentheses in the {where} of {pattern!r}")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"rearrange: ')' without '(' in the {where} of {pattern!r}")
            groups.append(current)
            current = None
        elif token == "1":
            if current is None:
                groups.append([])
        elif token != _ELLIPSIS and not token.isidentifier():
            raise ValueError(f"rearrange: {token!r} in the {where} of {pattern!r} is not an axis name (letters, "
                             f"digits and _), '...', '1' or a parenthesised group")
        elif current is not None:
            current.append(token)        # in a group: one of the dims that make up one (… flattened into one)
        elif token == _ELLIPSIS:
            groups.append(_ELLIPSIS)     # the leftover dims, each its own dim
        else:
            groups.append([token])
    if current is not None:
        raise ValueError(f"rearrange: '(' without ')' in the {where} of {pattern!r}")
    names = [n for g in groups for n in ([g] if g == _ELLIPSIS else g)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"rearrange: axis {repeated[0]!r} appears twice in the {where} of {pattern!r}")
    return groups


def _mentions_ellipsis(group):
    return group == _ELLIPSIS or _ELLIPSIS in group


def rearrange(tensor, pattern, **axes_lengths):
    """Reorder, group and ungroup the dims of tensor (or of a list of equally shaped tensors, stacked as a new
    first dim) as pattern "left -> right" says."""
    if isinstance(tensor, (list, tuple)):
        from .ops.shape import stack
        tensor = stack(list(tensor))
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange: the pattern must read 'input dims -> output dims', got {pattern!r}")
    left_text, right_text = pattern.split("->")
    left, right = _parse(left_text, "left side", pattern), _parse(right_text, "right side", pattern)
    shape = tuple(tensor.shape)
    # the ellipsis stands for the dims that the named groups leave over
    for groups in (left, right):
        if sum(map(_mentions_ellipsis, groups)) > 1:
            raise ValueError(f"rearrange: '...' may appear once on each side of {pattern!r}")
    if any(map(_mentions_ellipsis, left)) != any(map(_mentions_ellipsis, right)):
        raise ValueError(f"rearrange: '...' must appear on both sides of {pattern!r} or on neither")
    if any(g != _ELLIPSIS and _ELLIPSIS in g for g in left):
        raise ValueError(f"rearrange: '...' cannot be inside a group on the left of {pattern!r}")
    fixed = len(left) - (1 if _ELLIPSIS in left else 0)
    if (len(shape) != fixed) if _ELLIPSIS not in left else (len(shape) < fixed):
        raise ShapeError(f"rearrange: the left side of {pattern!r} names {fixed} dims, the input has shape {shape}")
    extra = len(shape) - fixed
    dots = [f"{_ELLIPSIS}{i}" for i in range(extra)]

    def expand(groups):   # '…' becomes the leftover dims' own names: apart, or inside the group it sits in
        out = []
        for g in groups:
            if g == _ELLIPSIS:
                out.extend([d] for d in dots)
            else:
                out.append([d for n in g for d in (dots if n == _ELLIPSIS else [n])])
        return out
    left, right = expand(left), expand(right)
    lengths = {}
    for group, size in zip(left, shape):
        if len(group) == 1 and group[0].startswith(_ELLIPSIS):
            lengths[group[0]] = size
            continue
        if not group and size != 1:
            raise ShapeError(f"rearrange: the left side of {pattern!r} has a '1' or '()' where the input has a dim "
                             f"of size {size} (shape {shape})")
        unknown = [n for n in group if n not in axes_lengths]
        known = math.prod(axes_lengths[n] for n in group if n in axes_lengths)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: group ({' '.join(group)}) of {pattern!r} leaves {unknown} unknown: give "
                             f"all but one as keyword lengths, e.g. {unknown[0]}=…")
        if unknown:
            if known == 0 or size % known:
                raise ShapeError(f"rearrange: a dim of size {size} cannot split into ({' '.join(group)}) with "
                                 f"lengths {({n: axes_lengths[n] for n in group if n in axes_lengths})}")
            lengths[unknown[0]] = size // known
        elif known != size:
            raise ShapeError(f"rearrange: group ({' '.join(group)}) of {pattern!r} has size {known} from the given "
                             f"lengths, the input's dim has {size} (shape {shape})")
        lengths.update({n: axes_lengths[n] for n in group if n in axes_lengths})
    names_left = [n for g in left for n in g]
    names_right = [n for g in right for n in g]
    if sorted(names_left) != sorted(names_right):
        only_left, only_right = set(names_left) - set(names_right), set(names_right) - set(names_left)
        raise ValueError(f"rearrange: both sides of {pattern!r} must name the same axes (rearrange neither drops "
                         f"nor repeats one; see reduce / repeat); left only {sorted(only_left)}, right only "
                         f"{sorted(only_right)}")
    unused = set(axes_lengths) - set(names_left)
    if unused:
        raise ValueError(f"rearrange: lengths given for axes the pattern {pattern!r} does not name: {sorted(unused)}")
    elementary = tensor.reshape(*[lengths[n] for n in names_left])
    permuted = elementary.permute(*[names_left.index(n) for n in names_right])
    return permuted.reshape(*[math.prod(lengths[n] for n in g) for g in right])


rearrange = register("rearrange", ref=None, samples=[
    sample(T((2, 6, 3)), "b (h w) c -> b c h w", h=2), sample(T((4, 3)), "a b -> (b a)"),
    sample(T((2, 3, 2)), "b ... c -> c (...) b"), sample(T((2, 3, 4)), "a b c -> c (a b)")])(rearrange)
# size-1 dims ("a 1 -> a", "a -> 1 a") are tested against NumPy in tests/test_einops.py: torch 2.13's rearrange
# fails on new ones, and on dropped ones returns a copy and turns bools into int64
