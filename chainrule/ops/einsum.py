"""einsum: one Einsum node for the sum of products, after the equation is brought to plain form.

Plain form has one letter per dim, no letter twice in an operand, and equal sizes for a letter across operands;
NumPy's einsum contracts it and the backward is another einsum. Everything else torch's einsum accepts is reduced
to it with differentiable views first:
    '...'            → fresh letters, aligned from the right and broadcast as NumPy's broadcasting;
    'ii' in one operand → the diagonal (x.diagonal(0, p, q) puts it last);
    a size-1 dim against a size-n one for the same letter → expanded (broadcast, so its gradient is summed back);
    sublists, einsum(a, [0, 1], b, [1, 2], [0, 2]) → letters (0-25 are A-Z, 26-51 a-z, Ellipsis is '...').
"""
import functools
import string

import numpy as np

from .. import dtypes
from ..autograd import buffers
from ..autograd.function import ALL_INPUTS, Op
from ..errors import ShapeError
from ._util import lift
from .registry import T, register, sample

_LETTERS = string.ascii_uppercase + string.ascii_lowercase   # torch's sublist order: 0-25 'A'-'Z', 26-51 'a'-'z'


class Einsum(Op):
    """y = einsum(eq, x₁, …);  dL/dxₖ = einsum(g and the other operands -> xₖ's subscripts), broadcast back over
    subscripts that only xₖ has (they were summed away)."""
    read_for_others = ALL_INPUTS

    def forward(self, *xs, ins, out):
        self.ins, self.out = ins, out
        if all(x.dtype == np.float16 for x in xs):
            return buffers.half_product(np.einsum, ",".join(ins) + "->" + out, *xs)
        return np.einsum(",".join(ins) + "->" + out, *xs)

    def backward(self, g):
        grads = []
        for k, (sub, x) in enumerate(zip(self.ins, self.inputs)):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(s, t) for j, (s, t) in enumerate(zip(self.ins, self.inputs)) if j != k]
            avail = set(self.out) | set("".join(s for s, _ in others))
            target = "".join(c for c in sub if c in avail)
            eq_ins = [self.out] + [s for s, _ in others]
            r = einsum(",".join(eq_ins) + "->" + target, g, *[t for _, t in others])
            if target != sub:   # a subscript only this operand had: d/dx of a plain sum is 1 everywhere
                r = r.reshape([x.shape[i] if c in avail else 1 for i, c in enumerate(sub)])
                r = r.expand(x.shape)
            grads.append(r)
        return tuple(grads)


def _from_sublists(args):
    """einsum(op₁, sublist₁, op₂, sublist₂, …, [out]) → the equation and the operands."""
    def letters(sublist):
        out = []
        for v in sublist:
            if v is Ellipsis:
                out.append("...")
            elif isinstance(v, (int, np.integer)) and 0 <= v < len(_LETTERS):
                out.append(_LETTERS[v])
            else:
                raise ValueError(f"einsum: sublist entries must be ints in [0, {len(_LETTERS)}) or Ellipsis, got {v!r}")
        return "".join(out)
    operands, subs = args[0::2], args[1::2]
    output = None
    if len(args) % 2:   # an odd count: the last list is the output's sublist
        operands, output = operands[:-1], args[-1]
    eq = ",".join(letters(s) for s in subs)
    return (eq if output is None else f"{eq}->{letters(output)}"), operands


def _parse(equation, operands):
    """The input subscripts with '...' spelt out in fresh letters, and the output subscripts."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise ValueError(f"einsum: equation {equation!r} names {len(ins)} operands but {len(operands)} were given")
    bad = sorted(set(eq.replace("...", "").replace(",", "").replace("->", "")) - set(_LETTERS))
    if bad:
        raise ValueError(f"einsum: {equation!r} has {bad[0]!r}; subscripts are letters a-z, A-Z and '...'")
    ellipsis_dims = []
    for s, o in zip(ins, operands):
        named = len(s.replace("...", ""))
        if s.count("...") > 1 or ("..." not in s and named != o.ndim) or named > o.ndim:
            raise ShapeError(f"einsum: subscripts {s!r} do not fit an operand of shape {o.shape} (one letter per dim, "
                             f"or '...' once for the rest)")
        ellipsis_dims.append(o.ndim - named if "..." in s else 0)
    free = [c for c in _LETTERS if c not in eq]
    dots = "".join(free[:max(ellipsis_dims, default=0)])
    ins = [s.replace("...", dots[len(dots) - n:] if n else "") for s, n in zip(ins, ellipsis_dims)]
    if arrow:
        rhs = rhs.replace("...", dots)
    else:   # implicit output: the '...' dims, then the letters seen once, in order (upper case first, as torch)
        named = lhs.replace("...", "").replace(",", "")
        rhs = dots + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    for c in rhs:
        if rhs.count(c) > 1 or not any(c in s for s in ins):
            raise ValueError(f"einsum: output subscript {c!r} of {equation!r} "
                             f"{'appears more than once' if rhs.count(c) > 1 else 'is in no input'}")
    return ins, rhs


def _plain(sub, x, sizes):
    """x with repeated letters of sub taken as diagonals, and size-1 dims expanded to the letter's size."""
    while len(set(sub)) < len(sub):
        c = next(c for c in sub if sub.count(c) > 1)
        p = sub.index(c)
        q = sub.index(c, p + 1)
        if x.shape[p] != x.shape[q]:
            raise ShapeError(f"einsum: subscript {c!r} is repeated in an operand of shape {x.shape} but its sizes "
                             f"{x.shape[p]} and {x.shape[q]} differ")
        x = x.diagonal(0, p, q)
        sub = sub[:p] + sub[p + 1:q] + sub[q + 1:] + c
    want = tuple(sizes[c] for c in sub)
    return sub, (x if x.shape == want else x.expand(*want))


def einsum(*args):
    """Σ over the letters missing from the output of the product of the operands, e.g. 'bij,bjk->bik' is a batched
    matmul. torch's forms: einsum(eq, a, b), einsum(eq, [a, b]), einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    if args and isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _from_sublists(args)
    operands = [lift(o) for o in operands]
    common = functools.reduce(dtypes.promote, [o.dtype for o in operands])
    operands = [o if o.dtype == common else o.to(common) for o in operands]   # NumPy: int64 ⊕ float32 is float64
    ins, out = _parse(equation, operands)
    sizes = {}
    for s, o in zip(ins, operands):
        for c, n in zip(s, o.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ShapeError(f"einsum: subscript {c!r} has size {n} in an operand of shape {o.shape} but size "
                                 f"{sizes[c]} elsewhere in {equation!r}; sizes must match or be 1")
            if n != 1 or c not in sizes:
                sizes[c] = n
    plain = [_plain(s, o, sizes) for s, o in zip(ins, operands)]
    return Einsum.apply(*[x for _, x in plain], ins=tuple(s for s, _ in plain), out=out)


einsum = register("einsum", ref=lambda *args: np.einsum(*args),
         samples=[sample("ij,jk->ik", T((3, 4)), T((4, 2))), sample("bij,bjk->bik", T((2, 3, 4)), T((2, 4, 5))),
                  sample("ij->", T((3, 4))), sample("ij,j->i", T((3, 4)), T((4,))), sample("i,j->ij", T((3,)), T((2,))),
                  sample("ijk->kj", T((2, 3, 4))), sample("...ij,...jk->...ik", T((2, 3, 4)), T((4, 2))),
                  sample("ii->i", T((3, 3))), sample("iji->j", T((2, 3, 2))), sample("ba...", T((2, 3, 4))),
                  sample("ij,ij->i", T((3, 1)), T((3, 4))),
                  sample(T((2, 3)), [0, 1], T((3, 4)), [1, 2], [0, 2])])(einsum)
