"""Rearranging with PyTorch's names: movedim, narrow, tile, ravel, diagonal, diag_embed, rot90, kron, block_diag,
take_along_dim, masked_select, diff, meshgrid, cartesian_prod. All are compositions of registered ops (permute,
getitem, reshape, expand, gather, cat, …), so their gradients are those ops' and need no formula of their own."""
import numpy as np

from ..autograd import views
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import as_array, copied, norm_dim, one_dim, scalar_as_vector
from .elementwise import where
from .index import gather, getitem
from .registry import T, register, sample
from .shape import cat, expand, flip, pad, permute, reshape, stack, transpose
from .tiling import repeat

_wrap = Tensor._wrap


def _dims(dims, ndim, op):
    """Each dim normalised on its own, order kept (norm_dim sorts, which would swap a plane's axes)."""
    return tuple(one_dim(int(d), ndim, op) for d in dims)


def as_strided(input, size, stride, storage_offset=0):
    """A view of input's elements (in row-major order, as a contiguous tensor's storage) with the given size and
    strides in elements: out[i…] = flat[offset + Σ iₖ·strideₖ]. A gather from the flat tensor, so entries read
    more than once add their gradients. Every position must lie inside the tensor."""
    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    positions = strided_positions(input.numel(), size, stride, storage_offset, "as_strided")
    out = getitem(input.reshape(-1), _wrap(positions))
    n, x = input.numel(), input._data
    if n and x.flags.c_contiguous and x.flags.writeable:   # a view of the memory, as torch's
        out = _sharing(out, np.lib.stride_tricks.as_strided(x.reshape(-1)[storage_offset:], size,
                                                            tuple(s * x.itemsize for s in stride)), input)
    return out


def strided_positions(n, size, stride, storage_offset, op):
    """The flat positions offset + Σ iₖ·strideₖ of a view of `size` and `stride` (in elements) into n elements,
    each checked to lie inside them."""
    size, stride = tuple(int(k) for k in size), tuple(int(k) for k in stride)
    if len(size) != len(stride):
        raise ShapeError(f"{op}: size {size} and stride {stride} need the same length")
    reach = storage_offset + sum((k - 1) * s for k, s in zip(size, stride) if k > 0)
    if any(s < 0 for s in stride) or storage_offset < 0 or (all(size) and reach >= n):
        raise ShapeError(f"{op}: size {size}, stride {stride} and offset {storage_offset} reach element "
                         f"{reach} of a tensor with {n} elements")
    return np.array(np.lib.stride_tricks.as_strided(np.arange(n)[storage_offset:] if n else np.arange(1),
                                                    size, tuple(s * np.arange(1).itemsize for s in stride)))


@scalar_as_vector
def movedim(input, source, destination):
    """Dims `source` moved to positions `destination` (ints or sequences), the others keeping their order."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source {src} and destination {dst} must name the same number of dims")
    src, dst = _dims(src, input.ndim, "movedim"), _dims(dst, input.ndim, "movedim")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: repeated dim in source {src} or destination {dst}")
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, *order)


def narrow(input, dim, start, length):
    """input[..., start:start + length, ...] along dim (a view in PyTorch; here a slice)."""
    d = one_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    start = start + n if start < 0 else start
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise ShapeError(f"narrow: start {start} and length {length} do not fit in dim {d} of size {n}")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def tile(input, dims):
    """torch.tile: repeat with the counts right-aligned to the dims (missing leading counts are 1)."""
    dims = tuple(dims)
    return repeat(input, *((1,) * (input.ndim - len(dims)) + dims))


def ravel(input):
    return reshape(input, -1)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes, moved to the last dim; offset > 0 is above the main diagonal."""
    d1, d2 = _dims((dim1, dim2), input.ndim, "diagonal")
    if d1 == d2:
        raise ShapeError(f"diagonal: dim1 and dim2 must differ, got both {d1}")
    x = movedim(input, (d1, d2), (-2, -1))
    rows, cols = x.shape[-2:]
    n = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    i = np.arange(n)
    r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
    out = getitem(x, (Ellipsis, r, c))
    view = np.diagonal(input._data, offset, d1, d2)
    if input._data.flags.writeable:   # a view, as torch's: x.diagonal().zero_() changes x
        view.flags.writeable = True
    return _sharing(out, view, input)


def _sharing(out, view, input):
    """out (computed as a gather, which differentiates) holding `view`, the same values in input's memory, and
    linked to input as its view (so an in-place op on it with grad reaches input: autograd/views.py)."""
    out._data = view
    views.link_view(out, (input,))
    return out


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """The last dim of input placed on the diagonal of new (dim1, dim2) planes (the inverse of diagonal)."""
    n = input.shape[-1]
    on_diagonal = _wrap(np.eye(n, dtype=bool))   # a where, not a product with eye: NaN·0 would fill the row
    planes = where(on_diagonal, reshape(input, input.shape + (1,)), _wrap(np.zeros((), input.dtype)))
    if offset:
        k = abs(offset)
        planes = pad(planes, (k, 0, 0, k) if offset > 0 else (0, k, k, 0))
    d1, d2 = _dims((dim1, dim2), planes.ndim, "diag_embed")
    return movedim(planes, (-2, -1), (d1, d2))


def rot90(input, k=1, dims=(0, 1)):
    """Rotation by 90° k times in the plane of dims, from the first towards the second (as np.rot90)."""
    a, b = _dims(dims, input.ndim, "rot90")
    if a == b:
        raise ShapeError(f"rot90: the two dims must differ, got {tuple(dims)}")
    k %= 4
    if k == 0:
        return input.clone()   # a new tensor, as torch's (never the input itself)
    if k == 2:
        return flip(input, (a, b))
    if k == 1:
        return transpose(flip(input, (b,)), a, b)
    return flip(transpose(input, a, b), (b,))


def kron(input, other):
    """The Kronecker product: block (i, j) of the result is input[i, j] · other (any matching number of dims)."""
    nd = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (nd - input.ndim) + input.shape)
    b = reshape(other, (1,) * (nd - other.ndim) + other.shape)
    out = reshape(a, tuple(v for n in a.shape for v in (n, 1))) * reshape(b, tuple(v for n in b.shape for v in (1, n)))
    return reshape(out, tuple(m * n for m, n in zip(a.shape, b.shape)))


def block_diag(*tensors):
    """The 2-d blocks (0-d and 1-d inputs count as one row) along the diagonal of a zero matrix."""
    blocks = [reshape(t, (1, -1)) if t.ndim < 2 else t for t in tensors]
    if any(b.ndim != 2 for b in blocks):
        raise ShapeError(f"block_diag: inputs must have at most 2 dims, got shapes {[t.shape for t in tensors]}")
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows.append(pad(b, (left, width - left - b.shape[1])))
        left += b.shape[1]
    return cat(rows, 0)


def take_along_dim(input, indices, dim=None):
    """gather with NumPy's broadcasting of the index (the flattened input when dim is None)."""
    if dim is None:
        return gather(reshape(input, -1), 0, reshape(indices, -1))
    d = one_dim(dim, input.ndim, "take_along_dim")
    idx = as_array(indices)
    shape = np.broadcast_shapes(input.shape[:d] + (1,) + input.shape[d + 1:], idx.shape[:d] + (1,) + idx.shape[d + 1:])
    x = expand(input, shape[:d] + (input.shape[d],) + shape[d + 1:])
    return gather(x, d, _wrap(np.broadcast_to(idx, shape[:d] + (idx.shape[d],) + shape[d + 1:]).copy()))


def masked_select(input, mask):
    """The entries where mask (broadcast to input's shape) holds, as a 1-d tensor."""
    m = as_array(mask)
    if m.dtype != np.bool_:
        raise ShapeError(f"masked_select: mask must be a bool tensor, got {m.dtype}")
    shape = np.broadcast_shapes(input.shape, m.shape)
    x = input if input.shape == shape else expand(input, shape)
    return getitem(x, np.broadcast_to(m, shape))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along dim: out[i] = x[i + 1] - x[i], applied n times (prepend/append first); of a
    bool tensor, x[i + 1] != x[i] (as torch)."""
    d = one_dim(dim, input.ndim, "diff")
    if n < 0:
        raise ValueError(f"diff: the order n must be non-negative, got {n}")
    if n == 0:   # no difference taken: the input as it is (torch leaves prepend and append out too)
        return input.clone()
    x = input
    if prepend is not None or append is not None:
        x = cat([t for t in (prepend, x, append) if t is not None], d)
    for _ in range(n):
        m = x.shape[d]
        head = (slice(None),) * d
        later, earlier = getitem(x, head + (slice(1, m),)), getitem(x, head + (slice(0, m - 1),))
        x = later != earlier if x.dtype == np.bool_ else later - earlier
    return x


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-d tensors; indexing 'ij' (matrix) or 'xy' (Cartesian: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = list(tensors)
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    grids = [expand(reshape(t, tuple(-1 if j == i else 1 for j in range(len(ts)))), shape) for i, t in enumerate(ts)]
    if indexing == "xy" and len(ts) >= 2:   # ij grids of (y, x, …), handed back in the order (x, y, …)
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """All combinations of the 1-d inputs' entries, as rows (itertools.product order)."""
    if len(tensors) == 1:
        return tensors[0]
    return stack([reshape(g, -1) for g in meshgrid(*tensors, indexing="ij")], 1)


_IDX = T((3, 2), low=0, high=4, dtype="int64", grad=False)
def select(input, dim, index):
    """input[..., index, ...] at dim, dropping that dim (a view in torch; here an indexing op)."""
    (d,) = norm_dim(dim, input.ndim, "select")
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of size {n} (shape {input.shape})")
    return getitem(input, (slice(None),) * d + (index,))


def pixel_shuffle(input, upscale_factor):
    """(*, C·r², H, W) -> (*, C, H·r, W·r): out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]."""
    r = upscale_factor
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ShapeError(f"pixel_shuffle: expected (*, C·r², H, W) with channels divisible by r² = {r * r}, got "
                         f"shape {input.shape}")
    *lead, c, h, w = input.shape
    nl = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = permute(x, list(range(nl)) + [nl, nl + 3, nl + 1, nl + 4, nl + 2])
    return copied(x.reshape(*lead, c // (r * r), h * r, w * r), input)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H·r, W·r) -> (*, C·r², H, W): the inverse of pixel_shuffle."""
    r = downscale_factor
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ShapeError(f"pixel_unshuffle: height and width of {input.shape} must be divisible by "
                         f"downscale_factor={r}")
    *lead, c, h, w = input.shape
    nl = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = permute(x, list(range(nl)) + [nl, nl + 2, nl + 4, nl + 1, nl + 3])
    x = x.reshape(*lead, c * r * r, h // r, w // r)
    return copied(x, input)


def channel_shuffle(input, groups):
    """(N, g·k, *) -> (N, k·g, *): channel j·g + i of the output is channel i·k + j of the input (ShuffleNet)."""
    if input.ndim < 3 or input.shape[1] % groups:
        raise ShapeError(f"channel_shuffle: expected (N, C, *) with C divisible by groups={groups}, got {input.shape}")
    n, c = input.shape[:2]
    rest = input.shape[2:]
    return copied(input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest), input)


def _np_pixel_shuffle(x, r):
    *lead, c, h, w = x.shape
    out = np.empty((*lead, c // (r * r), h * r, w * r))
    for i in range(r):
        for j in range(r):
            out[..., i::r, j::r] = x[..., i * r + j::r * r, :, :]
    return out


as_strided = register("as_strided", method="as_strided", ref=lambda x, size, stride, off=0: np.lib.stride_tricks.as_strided(
    np.ascontiguousarray(x).reshape(-1)[off:], size, tuple(s * x.itemsize for s in stride)).copy(),
    samples=[sample(T((3, 4)), (2, 2), (1, 2)), sample(T((6,)), (3, 3), (1, 1), 1), sample(T((2, 3)), (3, 2), (2, 1))])(
    as_strided)
movedim = register("movedim", method=("movedim", "moveaxis"), ref=lambda x, s, d: np.moveaxis(x, s, d),
         samples=[sample(T((2, 3, 4)), 0, -1), sample(T((2, 3, 4)), (0, 1), (2, 0))])(movedim)
narrow = register("narrow", method="narrow", ref=lambda x, d, s, n: np.take(x, np.arange(s % x.shape[d], s % x.shape[d] + n), d),
         samples=[sample(T((3, 5)), 1, 1, 3), sample(T((4, 2)), 0, -2, 2)])(narrow)
tile = register("tile", method="tile", ref=lambda x, r: np.tile(x, r),
         samples=[sample(T((2, 3)), (2,)), sample(T((3,)), (2, 2))])(tile)
ravel = register("ravel", method="ravel", ref=np.ravel, samples=[sample(T((2, 3)))])(ravel)
diagonal = register("diagonal", method="diagonal", ref=lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2),
         samples=[sample(T((3, 4))), sample(T((3, 4)), 1), sample(T((4, 3)), -2),
                  sample(T((2, 3, 3)), 0, 1, 2)])(diagonal)
diag_embed = register("diag_embed", method="diag_embed",
         ref=lambda x, offset=0: np.stack([np.diag(r, offset) for r in x.reshape(-1, x.shape[-1])]).reshape(
             x.shape[:-1] + (x.shape[-1] + abs(offset),) * 2),
         samples=[sample(T((2, 3))), sample(T((2, 3)), 1), sample(T((3,)), -1)])(diag_embed)
rot90 = register("rot90", method="rot90", ref=lambda x, k=1, dims=(0, 1): np.rot90(x, k, dims),
         samples=[sample(T((2, 3))), sample(T((2, 3)), 2), sample(T((2, 3)), -1), sample(T((2, 3, 4)), 1, (2, 0))])(rot90)
kron = register("kron", method="kron", ref=np.kron,
         samples=[sample(T((2, 3)), T((2, 2))), sample(T((3,)), T((2,))), sample(T((2, 1)), T((2, 3, 2)))])(kron)
block_diag = register("block_diag", ref=lambda *xs: _np_block_diag(xs),
         samples=[sample(T((2, 3)), T((1, 2))), sample(T((2,)), T((2, 2)), T(()))])(block_diag)
take_along_dim = register("take_along_dim", method="take_along_dim", ref=lambda x, i, dim=None: np.take_along_axis(
             x.reshape(-1) if dim is None else x, i.reshape(-1) if dim is None else i, 0 if dim is None else dim),
         samples=[sample(T((3, 4)), _IDX, 1), sample(T((3, 4)), T((1, 4), 0, 3, dtype="int64", grad=False), 0),
                  sample(T((2, 3)), T((4,), 0, 6, dtype="int64", grad=False))])(take_along_dim)
masked_select = register("masked_select", method="masked_select", ref=lambda x, m: x[np.broadcast_to(m, x.shape)],
         samples=[sample(T((3, 4)), T((3, 4), dtype="bool", grad=False)),
                  sample(T((3, 4)), T((4,), dtype="bool", grad=False))])(masked_select)
diff = register("diff", method="diff", ref=lambda x, n=1, dim=-1, prepend=None, append=None: np.diff(x, n, dim),
         samples=[sample(T((3, 5))), sample(T((4, 3)), 2, 0)])(diff)
select = register("select", method="select", ref=lambda x, d, i: np.take(x, i, d),
         samples=[sample(T((3, 4)), 1, 2), sample(T((2, 3, 4)), -1, -1)])(select)
pixel_shuffle = register("pixel_shuffle", ref=_np_pixel_shuffle, samples=[sample(T((2, 8, 2, 3)), 2), sample(T((9, 1, 2)), 3)])(
    pixel_shuffle)
channel_shuffle = register("channel_shuffle", ref=lambda x, g: x.reshape(x.shape[0], g, -1, *x.shape[2:]).swapaxes(1, 2).reshape(x.shape),
         samples=[sample(T((2, 6, 3)), 3), sample(T((1, 4, 2, 2)), 2)])(channel_shuffle)
pixel_unshuffle = register("pixel_unshuffle", ref=lambda x, r: np.moveaxis(x.reshape(*x.shape[:-3], x.shape[-3], x.shape[-2] // r, r,
                                                                  x.shape[-1] // r, r), (-3, -1), (-4, -3)).reshape(
    *x.shape[:-3], x.shape[-3] * r * r, x.shape[-2] // r, x.shape[-1] // r),
         samples=[sample(T((2, 2, 4, 6)), 2), sample(T((1, 3, 3)), 3)])(pixel_unshuffle)
cartesian_prod = register("cartesian_prod", ref=lambda *xs: np.stack(np.meshgrid(*xs, indexing="ij"), -1).reshape(-1, len(xs)),
         samples=[sample(T((3,)), T((2,)))])(cartesian_prod)


def _np_block_diag(xs):
    xs = [np.atleast_2d(x) for x in xs]
    out = np.zeros((sum(x.shape[0] for x in xs), sum(x.shape[1] for x in xs)))
    r = c = 0
    for x in xs:
        out[r:r + x.shape[0], c:c + x.shape[1]] = x
        r, c = r + x.shape[0], c + x.shape[1]
    return out
