"""Layers as torch builds and prints them: the same repr for the same constructor call, tuple-valued conv and pool
arguments, conv padding modes, device=/dtype= on every layer, torch's RNN/LSTM argument order, norms' bias flag,
SyncBatchNorm, softmax's implicit dim, torch.backends probes, and torch.save/torch.load's keywords. Compared with
torch where it is importable; behaviour and errors are tested without it."""
import io
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from helpers import assert_layer_matches_torch


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


CONSTRUCTORS = [
    "Linear(3, 4)", "Linear(3, 4, bias=False)", "Bilinear(2, 3, 4)", "Identity()", "Flatten()", "Flatten(0, 1)",
    "Unflatten(1, (2, 2))", "Conv1d(2, 3, 3)", "Conv2d(1, 16, 3, padding=1)", "Conv3d(2, 3, 3, padding='same')",
    "Conv2d(2, 4, (3, 5), stride=2, dilation=2, groups=2, bias=False, padding_mode='reflect')",
    "ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)", "ConvTranspose1d(2, 3, 3, dilation=2)",
    "LazyLinear(3)", "LazyConv2d(4, 3)",
    "MaxPool2d(2, 2)", "MaxPool1d(3)", "MaxPool1d(3, 2, 1, 2, True, True)", "MaxPool2d((2, 3), ceil_mode=True)",
    "MaxPool3d(2, 1, 1, 2)", "AvgPool2d(2)", "AvgPool2d(3, 2, 1, True, False, 2)", "AvgPool1d(3)",
    "AvgPool1d(3, 1, 1, True, False)", "AvgPool3d(2, 1, 1)", "LPPool2d(2, 3, 2)", "LPPool1d(2, 3)",
    "AdaptiveAvgPool2d((1, 1))", "AdaptiveAvgPool2d((2, None))", "AdaptiveAvgPool1d(2)", "AdaptiveAvgPool3d(2)",
    "AdaptiveMaxPool2d(3, True)", "AdaptiveMaxPool1d(3)", "MaxUnpool2d(2, 1, 1)", "MaxUnpool1d(2)",
    "BatchNorm1d(4)", "BatchNorm2d(16, affine=False)", "BatchNorm1d(3, bias=False)", "SyncBatchNorm(3)",
    "LayerNorm(8)", "LayerNorm([4, 8], elementwise_affine=False)", "LayerNorm(4, bias=False)", "GroupNorm(2, 4)",
    "GroupNorm(2, 4, bias=False)", "InstanceNorm2d(3)", "InstanceNorm2d(3, affine=True)", "RMSNorm(4, eps=1e-6)",
    "LocalResponseNorm(2)", "Dropout(0.1)", "Dropout2d(0.1)", "Dropout1d()", "AlphaDropout(0.2)",
    "FeatureAlphaDropout(0.2)", "ReLU()", "ReLU(inplace=True)", "LeakyReLU(0.2, inplace=True)", "LeakyReLU(0.1, True)",
    "ELU()", "ELU(inplace=True)", "CELU()", "SELU()", "GELU()", "GELU(approximate='tanh')", "SiLU(inplace=True)",
    "Mish()", "Softmax(dim=1)", "Softmax()", "LogSoftmax(dim=1)", "Softmin(1)", "Softmax2d()", "Sigmoid()", "Tanh()",
    "Softplus()", "Softplus(2, 10)", "Hardtanh()", "Hardtanh(-2, 1.5)", "Hardtanh(inplace=True)", "ReLU6()",
    "Threshold(0.1, 20, True)", "Hardshrink()", "Softshrink()", "Softsign()", "Tanhshrink()", "GLU()", "RReLU()",
    "PReLU()", "Hardswish()", "Hardsigmoid()", "LogSigmoid()", "Embedding(10, 3, padding_idx=0)",
    "Embedding(10, 3, max_norm=1.0)", "EmbeddingBag(10, 3, mode='sum')", "RNN(3, 4)", "RNN(3, 4, nonlinearity='relu')",
    "RNN(3, 4, bias=False)", "LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True, dropout=0.1)",
    "LSTM(3, 4, 2, True, True)", "GRU(3, 4, 2, dropout=0.5)", "RNNCell(3, 4, bias=False, nonlinearity='relu')",
    "LSTMCell(3, 4)", "GRUCell(3, 4)", "MultiheadAttention(8, 2)", "TransformerEncoderLayer(8, 2, 16)",
    "TransformerDecoderLayer(8, 2, 16)", "TransformerEncoder(NN.TransformerEncoderLayer(8, 2, 16), 2)",
    "Upsample(scale_factor=2)", "Upsample(scale_factor=(2, 3), mode='bilinear', align_corners=True)",
    "Upsample(size=(4, 4))", "UpsamplingBilinear2d(scale_factor=2)", "ZeroPad2d(1)", "ZeroPad2d((1, 2, 3, 4))",
    "ConstantPad1d(2, 3.5)", "ReflectionPad2d(1)", "PixelShuffle(2)", "ChannelShuffle(2)", "Fold((4, 4), 2)",
    "Unfold(2)", "CosineSimilarity()", "PairwiseDistance()", "CrossEntropyLoss()", "BCELoss(reduction='sum')",
    "NLLLoss(ignore_index=2)", "Sequential(NN.Linear(2, 3), NN.ReLU())", "ModuleList([NN.Linear(2, 3)])",
    "ModuleDict({'a': NN.Linear(2, 3)})", "ParameterList([NN.Parameter(NS.zeros(2, 3))])",
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("call", CONSTRUCTORS)
def test_repr_equals_torchs(call):
    torch = _torch()
    theirs = repr(eval("torch.nn." + call.replace("NN.", "torch.nn.").replace("NS.", "torch."), {"torch": torch}))
    ours = repr(eval("nn." + call.replace("NN.", "nn.").replace("NS.", "cr."), {"nn": nn, "cr": cr}))
    assert ours == theirs.replace("torch.float32", "chainrule.float32")


def test_repeated_modules_print_as_one_line():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(layers) == ("ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
                            "  (3): ReLU()\n)")


PADDINGS = [dict(padding=1), dict(padding=2, padding_mode="reflect"),
            dict(padding=1, padding_mode="replicate", stride=2), dict(padding=1, padding_mode="circular", dilation=2),
            dict(padding="same", padding_mode="reflect", kernel_size=4), dict(padding="same", kernel_size=4),
            dict(padding="valid")]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kw", PADDINGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_conv_padding_modes_match_torch(dims, kw):
    torch = _torch()
    kw = dict(kw)
    k = kw.pop("kernel_size", 3)
    theirs = getattr(torch.nn, f"Conv{dims}d")(2, 4, k, dtype=torch.float64, **kw)
    ours = getattr(nn, f"Conv{dims}d")(2, 4, k, dtype=cr.float64, **kw)
    ours.load_state_dict({n: cr.tensor(v.detach().numpy()) for n, v in theirs.state_dict().items()})
    assert_layer_matches_torch(ours, theirs, np.random.default_rng(dims).standard_normal((2, 2) + (6,) * dims))


def test_conv_arguments_are_tuples_and_bad_modes_are_named():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    assert conv.stride == (2, 2) and conv.padding == (1, 1) and conv.dilation == (1, 1)
    assert conv.padding_mode == "zeros" and conv.output_padding == (0, 0)
    assert nn.Conv1d(1, 1, 3, padding="same").padding == "same"
    with pytest.raises(ValueError, match="padding_mode must be"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="ConvTranspose2d"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    assert up(cr.zeros(1, 2, 4, 4), output_size=[8, 8]).shape == (1, 3, 8, 8)
    assert up(cr.zeros(1, 2, 4, 4)).shape == (1, 3, 7, 7)
    with pytest.raises(ValueError, match="output_size"):
        up(cr.zeros(1, 2, 4, 4), output_size=[12, 12])


def test_layers_take_device_and_dtype():
    assert nn.Linear(2, 3, device="cpu", dtype=cr.float64).weight.dtype == cr.float64
    assert nn.Conv2d(1, 2, 3, dtype=cr.float64, device=cr.device("cpu")).bias.dtype == cr.float64
    bn = nn.BatchNorm1d(3, dtype=cr.float64)
    assert bn.running_mean.dtype == cr.float64 and bn.num_batches_tracked.dtype == cr.int64
    assert nn.LSTM(2, 3, dtype=cr.float64).weight_hh_l0.dtype == cr.float64
    assert nn.MultiheadAttention(4, 2, dtype=cr.float64).in_proj_weight.dtype == cr.float64
    assert nn.LayerNorm(3, device="cpu", dtype=cr.float16).weight.dtype == cr.float16
    with pytest.raises(RuntimeError, match="Linear.*cuda"):
        nn.Linear(2, 3, device="cuda")


def test_rnn_arguments_follow_torchs_order():
    lstm = nn.LSTM(3, 4, 2, True, True)   # input, hidden, num_layers, bias, batch_first: LSTM has no nonlinearity
    assert lstm.num_layers == 2 and lstm.bias and lstm.batch_first
    assert lstm(cr.zeros(5, 7, 3))[0].shape == (5, 7, 4)
    rnn = nn.RNN(3, 4, 1, "relu")
    assert rnn.nonlinearity == "relu" and rnn.mode == "RNN_RELU"
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    assert nn.LSTM(3, 4, proj_size=2)(cr.zeros(5, 7, 3))[0].shape == (5, 7, 2)   # LSTM with projections


def test_norms_without_bias_and_sync_batchnorm():
    bn = nn.BatchNorm1d(3, bias=False)
    assert bn.bias is None and list(bn.state_dict()) == ["weight", "running_mean", "running_var",
                                                         "num_batches_tracked"]
    assert nn.GroupNorm(1, 3, bias=False).bias is None
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.Flatten(), nn.BatchNorm1d(18)))
    weight = model[1].weight
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(synced[1], nn.SyncBatchNorm) and isinstance(synced[2][1], nn.SyncBatchNorm)
    assert synced[1].weight is weight   # the same parameters, so an optimizer built before still updates them
    x = cr.randn(4, 1, 5, 5)
    assert synced(x).shape == (4, 18)
    assert float(synced[1].num_batches_tracked.item()) == 1


def test_softmax_without_dim_uses_torchs_legacy_choice_and_warns():
    x = cr.randn(2, 3, 4, 5)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.sum(1).numpy(), 1, rtol=1e-6)    # dim 1 of a 4-d input, as torch
    with pytest.warns(UserWarning, match="log_softmax"):
        z = nn.LogSoftmax()(cr.randn(3, 4, 5))
    np.testing.assert_allclose(z.exp().sum(0).numpy(), 1, rtol=1e-6)   # dim 0 of a 3-d input
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.softmax(x, dim=-1)


def test_activation_attributes_and_pool_defaults():
    assert nn.ELU(0.5).alpha == 0.5 and nn.LeakyReLU().negative_slope == 0.01 and nn.Softmax(1).dim == 1
    act = nn.LeakyReLU(0.1)
    act.negative_slope = 0.5          # torch reads the attribute at every call
    assert act(cr.tensor([-2.0])).item() == -1.0
    assert nn.ReLU(inplace=True).inplace and not nn.Dropout().inplace
    assert nn.MaxPool2d(3).stride == 3 and nn.LPPool2d(2, 3).stride is None
    # the 3-d pools take torch's every option (compared with torch in tests/test_torch_pooling3d.py)
    assert nn.MaxPool3d(2, ceil_mode=True)(cr.zeros(1, 1, 5, 5, 5)).shape == (1, 1, 3, 3, 3)
    assert F.avg_pool3d(cr.ones(1, 1, 4, 4, 4), 2, divisor_override=4).numpy().max() == 2.0


def test_backends_probes():
    device = cr.device("cuda" if cr.cuda.is_available() else "mps" if cr.backends.mps.is_available() else "cpu")
    assert device == "cpu" and not cr.backends.cudnn.is_available()
    cr.backends.cudnn.benchmark = True     # scripts set these flags; on the CPU they are only recorded
    assert cr.backends.cudnn.benchmark
    cr.backends.cudnn.benchmark = False


def test_save_and_load_take_torchs_keywords_and_file_objects(tmp_path):
    loss = (cr.ones(2, requires_grad=True) * 2).sum()
    path = tmp_path / "checkpoint.pt"
    cr.save({"epoch": 3, "loss": loss, "step": cr.tensor(7)}, path, _use_new_zipfile_serialization=True)
    back = cr.load(path, map_location="cpu", weights_only=True)
    assert back["epoch"] == 3 and back["loss"].shape == () and back["loss"].item() == 4.0   # 0-d stays 0-d
    assert back["step"].shape == () and back["step"].dtype == cr.int64
    buffer = io.BytesIO()
    model = nn.Linear(2, 3)
    cr.save(model.state_dict(), buffer)
    buffer.seek(0)
    state = cr.load(buffer, map_location=cr.device("cpu"))
    np.testing.assert_array_equal(state["weight"].numpy(), model.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="map_location.*cuda"):
        cr.load(path, map_location="cuda:0")


def test_adaptive_log_softmax_matches_torch():
    torch = _torch()
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10, 15], div_value=2.0).double()
    ours = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10, 15], div_value=2.0).double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x, y = np.random.default_rng(0).standard_normal((9, 16)), np.array([0, 3, 4, 9, 10, 14, 15, 19, 2])
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oa, ob = ours(a, cr.tensor(y)), theirs(b, torch.tensor(y))
    np.testing.assert_allclose(oa.output.detach().numpy(), ob.output.detach().numpy(), rtol=1e-12)
    oa.loss.backward()
    ob.loss.backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(ours.tail[1][0].weight.grad.numpy(), theirs.tail[1][0].weight.grad.numpy(),
                               rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(ours.log_prob(cr.tensor(x)).detach().numpy(),
                               theirs.log_prob(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert (ours.predict(cr.tensor(x)).numpy() == theirs.predict(torch.tensor(x)).numpy()).all()
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\]"):
        ours(cr.tensor(x[:1]), cr.tensor([20]))
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        nn.AdaptiveLogSoftmaxWithLoss(16, 20, [10, 4])


def test_backward_pre_hook_and_module_helpers_as_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    x = np.random.default_rng(0).standard_normal((4, 3))
    grads = []
    for lib in (cr, torch):
        lin = lib.nn.Linear(3, 2)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3)))
            lin.bias.zero_()
        seen = []

        def double(module, grad_output, seen=seen):
            seen.append(tuple(grad_output[0].shape))
            return (grad_output[0] * 2,)
        lin.register_full_backward_pre_hook(double)
        xt = lib.tensor(x, dtype=lib.float32, requires_grad=True)
        lin(xt).sum().backward()
        assert seen == [(4, 2)]
        grads.append((xt.grad.numpy(), lin.weight.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    model = cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.Sequential(cr.nn.ReLU()))
    model.set_submodule("1.0", cr.nn.Tanh())
    assert isinstance(model[1][0], cr.nn.Tanh)
    with pytest.raises(AttributeError, match="strict=True"):
        model.set_submodule("1.5", cr.nn.ReLU(), strict=True)
    assert model.type(cr.float64)[0].weight.dtype == cr.float64
    assert model.compile() is None
    with pytest.raises(cr.DTypeError, match="bfloat16"):
        model.bfloat16()
    with pytest.raises(RuntimeError, match="xpu"):
        model.xpu()


def test_a_custom_lazy_module_with_torchs_mixin():
    """LazyModuleMixin as torch's docs use it: UninitializedParameter placeholders, initialize_parameters on the
    first call, materialize(shape); and a checkpoint loaded into a lazy layer that has not run yet."""
    from chainrule.nn.modules.lazy import LazyModuleMixin

    class LazyScale(LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.UninitializedParameter()

        def initialize_parameters(self, x):
            if self.has_uninitialized_params():
                with cr.no_grad():
                    self.scale.materialize((x.shape[-1],))
                    self.scale.fill_(2.0)

        def forward(self, x):
            return x * self.scale
    m = LazyScale()
    assert m.has_uninitialized_params() and isinstance(m.scale, nn.UninitializedParameter)
    out = m(cr.ones(3, 4))
    assert isinstance(m.scale, nn.Parameter) and not isinstance(m.scale, nn.UninitializedParameter)
    assert out.shape == (3, 4) and np.all(out.detach().numpy() == 2.0) and not m.has_uninitialized_params()
    assert isinstance(nn.LazyLinear(3), LazyModuleMixin)
    trained = nn.Linear(5, 3)
    lazy = nn.LazyLinear(3)
    lazy.load_state_dict(trained.state_dict())   # shapes from the checkpoint, before any input
    assert lazy.weight.shape == (3, 5)
    x = cr.randn(2, 5)
    np.testing.assert_array_equal(lazy(x).detach().numpy(), trained(x).detach().numpy())   # loaded values kept
    assert type(lazy) is nn.Linear and lazy.in_features == 5

    class Incomplete(LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.UninitializedParameter()

        def initialize_parameters(self, x):
            pass
    with pytest.raises(RuntimeError, match="not been fully initialized"):
        Incomplete()(cr.ones(2))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_nn_grad_convolution_gradients_match_torch(dims):
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    rng = np.random.default_rng(0)
    x_shape, w_shape, kwargs = {1: ((2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, groups=2)),
                                2: ((2, 4, 7, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2),
                                                                     groups=2)),
                                3: ((1, 2, 5, 5, 4), (3, 2, 2, 2, 2), dict(padding=1))}[dims]
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    out = getattr(torch.nn.functional, f"conv{dims}d")(torch.tensor(x), torch.tensor(w), None, **kwargs)
    go = rng.standard_normal(tuple(out.shape))
    for kind, args_c, args_t in [("input", (x_shape, cr.tensor(w)), (x_shape, torch.tensor(w))),
                                 ("weight", (cr.tensor(x), w_shape), (torch.tensor(x), w_shape))]:
        ours = getattr(cr.nn.grad, f"conv{dims}d_{kind}")(*args_c, cr.tensor(go), **kwargs)
        theirs = getattr(torch.nn.grad, f"conv{dims}d_{kind}")(*args_t, torch.tensor(go), **kwargs)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)
    buffer = nn.UninitializedBuffer()
    buffer.materialize((2, 3))
    assert type(buffer) is cr.Tensor and buffer.shape == (2, 3)


def _container_story(L):
    """Sequential, ModuleList and ParameterList used as lists: what each step leaves, by type and name."""
    s = L.nn.Sequential(L.nn.ReLU(), L.nn.Tanh(), L.nn.Sigmoid())
    log = [[n for n, _ in s[1:].named_children()]]   # a slice keeps the names
    del s[0]
    log.append([type(m).__name__ for m in s] + [n for n, _ in s.named_children()])   # renumbered
    s.insert(1, L.nn.ELU())
    s.insert(-1, L.nn.GELU())
    log.append([type(m).__name__ for m in s])
    log.append([type(s.pop(0)).__name__, len(s * 2), len(s + s)])
    s += L.nn.Sequential(L.nn.ReLU())
    s[-1] = L.nn.Identity()
    del s[1:3]
    log.append([type(m).__name__ for m in s] + [n for n, _ in s.named_children()])
    ml = L.nn.ModuleList([L.nn.ReLU(), L.nn.Tanh()])
    ml.insert(0, L.nn.ELU())
    del ml[1]
    ml += [L.nn.GELU()]
    log.append([type(m).__name__ for m in ml] + [type(ml.pop(-1)).__name__, len(ml + L.nn.ModuleList([ml[0]]))])
    pl = L.nn.ParameterList([L.nn.Parameter(L.ones(1)), L.nn.Parameter(L.ones(2))])
    pl[-1] = L.nn.Parameter(L.ones(3))
    log.append([tuple(p.shape) for p in pl])
    shared = L.nn.Linear(2, 2)
    twice = L.nn.Sequential(shared, shared)
    log.append([len(list(twice.parameters())), len(list(twice.named_parameters(remove_duplicate=False))),
                [n for n, _ in twice.named_parameters(remove_duplicate=False)]])
    bn = L.nn.BatchNorm1d(2)
    log.append(len(list(L.nn.Sequential(bn, bn).named_buffers(remove_duplicate=False))))
    for bad in (lambda: s[10], lambda: s.insert(9, L.nn.ReLU())):
        try:
            bad()
        except IndexError:
            log.append("IndexError")
    return log


def test_containers_as_lists_behave_as_torchs():
    """del, insert, pop, +, *, += and item assignment were missing on Sequential and ModuleList (a slice of a
    Sequential renumbered its names; torch keeps them); named_parameters took no remove_duplicate."""
    ours = _container_story(cr)
    assert ours[1] == ["Tanh", "Sigmoid", "0", "1"] and ours[-1] == "IndexError"
    try:
        import torch
    except ImportError:
        return
    assert ours == _container_story(torch)


def test_module_forward_arguments_have_torchs_names():
    """m(input=x) and forward hooks with kwargs see torch's argument names (most forwards called it x)."""
    import inspect
    torch = pytest.importorskip("torch", reason="torch is the oracle for forward's argument names")
    differ = []
    for name in sorted(dir(torch.nn)):
        theirs, ours = getattr(torch.nn, name), getattr(nn, name, None)
        if not (isinstance(theirs, type) and issubclass(theirs, torch.nn.Module)) or ours is None:
            continue
        if name.startswith("Lazy") or name in ("Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList",
                                               "RNNBase", "RNNCellBase"):
            continue   # abstract in torch, or forwarding to the layer they become
        t = list(inspect.signature(theirs.forward).parameters)[1:]
        c = list(inspect.signature(ours.forward).parameters)[1:]
        if t != c:
            differ.append((name, c, t))
    assert not differ, differ
    seen = []
    m = nn.Linear(2, 2)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(sorted(kwargs)), with_kwargs=True)
    m(input=cr.ones(1, 2))
    assert seen == [["input"]]
