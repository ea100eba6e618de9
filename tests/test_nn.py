"""nn.Module behaviour, layers, losses' fused gradients, init, clipping, data loaders, bad input."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from helpers import torch_or_skip


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 1)
        self.register_buffer("scale", cr.ones(1))

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x))) * self.scale


def test_module_registration_and_traversal():
    m = Net()
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert list(m.state_dict()) == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]   # torch: own first
    assert len(list(m.children())) == 2 and len(list(m.modules())) == 3
    assert "(fc1): Linear(in_features=2, out_features=4, bias=True)" in repr(m)
    m.eval()
    assert not m.fc1.training
    m.train()
    assert m.fc2.training
    m(cr.randn(3, 2)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.double()
    assert m.fc1.weight.dtype == cr.float64
    for name, p in m.named_parameters():
        m(cr.randn(3, 2, dtype=cr.float64)).sum().backward()
        assert p.shape == p.grad.shape


def test_forward_hooks():
    m = nn.Linear(2, 2)
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: seen.append("pre"))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 0)
    out = m(cr.randn(1, 2))
    assert seen == ["pre"] and out.abs().sum().item() == 0
    h1.remove()
    h2.remove()
    assert m(cr.ones(1, 2)).abs().sum().item() != 0


def test_containers_and_apply():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert isinstance(seq[0], nn.Linear) and len(seq) == 3 and len(seq[:2]) == 2
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    assert len(list(ml.parameters())) == 6 and "a" in md
    seq.apply(lambda mod: nn.init.zeros_(mod.weight) if isinstance(mod, nn.Linear) else None)
    assert seq[0].weight.abs().sum().item() == 0


def test_softmax_cross_entropy_gradient_is_softmax_minus_onehot():
    z = cr.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], dtype=cr.float64, requires_grad=True)
    y = cr.tensor([0, 1])
    F.cross_entropy(z, y, reduction="sum").backward()
    s = np.exp(z.detach().numpy())
    s /= s.sum(1, keepdims=True)
    np.testing.assert_allclose(z.grad.numpy(), s - np.eye(3)[[0, 1]], atol=1e-15)


def test_bce_with_logits_gradient_is_a_minus_y_and_stable():
    x = cr.tensor([-1000.0, -2.0, 0.0, 3.0, 1000.0], dtype=cr.float64, requires_grad=True)
    y = cr.tensor([1.0, 0.0, 1.0, 1.0, 0.0], dtype=cr.float64)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
    loss.backward()
    a = 1 / (1 + np.exp(-np.clip(x.detach().numpy(), -500, 500)))
    np.testing.assert_allclose(x.grad.numpy(), a - y.numpy(), atol=1e-15)
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(2000 + np.log1p(np.exp(-2)) + np.log(2) + np.log1p(np.exp(-3)))
    ce = F.cross_entropy(cr.tensor([[1000.0, -1000.0]], requires_grad=True), cr.tensor([1]))
    assert np.isfinite(ce.item())


def test_init_functions():
    w = cr.empty(200, 100)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.numpy().std() - np.sqrt(2 / 100)) < 0.01
    nn.init.xavier_uniform_(w)
    assert np.abs(w.numpy()).max() <= np.sqrt(6 / 300)
    nn.init.orthogonal_(w)
    np.testing.assert_allclose(w.numpy().T @ w.numpy(), np.eye(100), atol=1e-5)
    assert nn.init.calculate_gain("relu") == pytest.approx(np.sqrt(2))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)


@pytest.mark.parametrize("name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"])
def test_calculate_gain_matches_torch(name):
    torch = torch_or_skip()
    assert nn.init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name), rel=1e-15)
    assert nn.init.calculate_gain("leaky_relu", 0.3) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.3))


def test_init_fans_and_bad_arguments_are_named():
    w = cr.empty(3, 4, 5)
    assert nn.init._calculate_correct_fan(w, "fan_in") == 20 and nn.init._calculate_correct_fan(w, "fan_out") == 15
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        nn.init._calculate_correct_fan(w, "fan")
    with pytest.raises(ValueError, match="leaky_relu's param is the negative slope, a number; got True"):
        nn.init.calculate_gain("leaky_relu", True)   # torch refuses a bool, which would read as slope 1
    with pytest.raises(ValueError, match="unsupported nonlinearity 'gelu'; use one of linear"):
        nn.init.calculate_gain("gelu")


def test_clip_grad_norm_returns_total_norm_and_clips():
    p = cr.zeros(4, requires_grad=True)
    p.grad = cr.tensor([3.0, 4.0, 0.0, 0.0])
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert total.item() == pytest.approx(5.0)
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(1.0, rel=1e-5)
    p.grad = cr.tensor([np.inf, 0, 0, 0])
    with pytest.raises(RuntimeError, match="non|NaN/Inf|inf"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = cr.tensor([3.0, -4.0, 0.5, 0.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [1.0, -1.0, 0.5, 0.0]
    v = nn.utils.parameters_to_vector(nn.Linear(2, 3).parameters())
    assert v.shape == (9,)


def test_dropout_train_and_eval():
    d = nn.Dropout(0.5)
    x = cr.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    d.eval()
    assert d(x) is x


def test_data_loader_variants():
    X, y = cr.arange(10).float().reshape(10, 1), cr.arange(10)
    ds = cr.data.TensorDataset(X, y)
    assert [b[0].shape[0] for b in cr.data.DataLoader(ds, batch_size=4)] == [4, 4, 2]
    assert [b[0].shape[0] for b in cr.data.DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    assert len(list(cr.data.make_loader(ds, "batch"))) == 1
    assert len(list(cr.data.make_loader(ds, "sgd"))) == 10
    stream = [int(b[1].item()) for b in cr.data.make_loader(ds, "online")]
    assert sorted(stream) == list(range(10))   # each sample seen exactly once
    seen = np.concatenate([b[1].numpy() for b in cr.data.make_loader(ds, "minibatch", 3, cr.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))


# ---- bad input, each a named error ----------------------------------------------------------------------------
def test_linear_wrong_features():
    with pytest.raises(cr.ShapeError, match=r"Linear.*expected input with 3 features.*shape \(4, 5\).*in_features=5"):
        nn.Linear(3, 2)(cr.randn(4, 5))


def test_class_labels_out_of_range_or_float():
    z = cr.randn(4, 3, requires_grad=True)
    with pytest.raises(IndexError, match=r"cross_entropy: target labels must be in \[0, 3\).*max 3"):
        F.cross_entropy(z, cr.tensor([0, 1, 2, 3]))
    with pytest.raises(cr.DTypeError, match=r"cross_entropy: target of shape \(4,\) .* indices must be integers"):
        F.cross_entropy(z, cr.tensor([0.0, 1.0, 2.0, 1.0]))   # float labels shaped like class indices
    with pytest.raises(cr.ShapeError, match="cross_entropy: input shape"):
        F.cross_entropy(z, cr.tensor([[0.5, 0.5]] * 4))       # probabilities of the wrong number of classes
    with pytest.raises(cr.DTypeError, match="nll_loss: class-index targets must be integers"):
        F.nll_loss(z, cr.tensor([0.0, 1.0, 2.0, 1.0]))


def test_bce_inputs_outside_unit_interval():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: inputs must be probabilities in \[0, 1\].*sigmoid"):
        nn.BCELoss()(cr.tensor([0.5, 1.5]), cr.tensor([1.0, 0.0]))


def test_target_shape_mismatch():
    with pytest.raises(cr.ShapeError, match=r"mse_loss: input shape \(4, 1\) and target shape \(4,\).*unsqueeze"):
        nn.MSELoss()(cr.randn(4, 1), cr.randn(4))


def test_optimizer_without_params_or_negative_lr():
    with pytest.raises(ValueError, match="empty parameter list"):
        cr.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="invalid learning rate -0.1"):
        cr.optim.Adam(nn.Linear(2, 2).parameters(), lr=-0.1)


def test_channel_dropout():
    d = nn.Dropout2d(0.5)
    y = d(cr.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))   # whole channels dropped or kept
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    d.eval()
    assert nn.Dropout1d(0.5).eval()(cr.ones(2, 3, 4)).numpy().sum() == 24


def test_linear_promotes_as_matmul_does():
    """Integer input with float32 weights computes in float32 (torch's promotion, as matmul and the elementwise
    ops; NumPy's would be float64); float64 input promotes the weights, whose gradient comes back float32."""
    lin = nn.Linear(2, 3)
    out = lin(cr.tensor([[1, 2], [3, 4]]))
    assert out.dtype == cr.float32
    np.testing.assert_allclose(out.detach().numpy(), lin(cr.tensor([[1.0, 2.0], [3.0, 4.0]])).detach().numpy())
    out.sum().backward()
    assert lin.weight.grad.dtype == cr.float32
    np.testing.assert_allclose(lin.weight.grad.numpy(), [[4.0, 6.0]] * 3)
    wide = lin(cr.ones(1, 2, dtype=cr.float64))
    assert wide.dtype == cr.float64
    wide.sum().backward()
    assert lin.weight.grad.dtype == cr.float32 and lin.bias.grad.dtype == cr.float32
    assert F.linear(cr.ones(1, 2), cr.ones(3, 2), cr.ones(3, dtype=cr.float64)).dtype == cr.float64


def test_layers_read_their_weights_as_attribute_lookup_would():
    """Module._own (the layers' fast read of a parameter or buffer) finds what self.<name> finds: an instance
    attribute shadowing it (functional_call), the registered parameter or buffer, a parametrization's property."""
    lin = nn.Linear(2, 1, bias=False)
    x = cr.ones(1, 2)
    assert lin._own("weight") is lin.weight and lin._own("bias") is None
    other = cr.tensor([[2.0, 3.0]])
    assert cr.func.functional_call(lin, {"weight": other}, (x,)).item() == 5.0
    nn.utils.parametrize.register_parametrization(lin, "weight", nn.Identity())
    assert lin._own("weight") is not None and np.allclose(lin(x).item(), lin.weight.sum().item())
    bn = nn.BatchNorm1d(3)
    assert bn._own("running_mean") is bn.running_mean
    bn(cr.randn(4, 3))
    assert int(bn.num_batches_tracked.item()) == 1
