"""torch's module paths and class hierarchy: `from chainrule.nn.modules.loss import _WeightedLoss` and the other
paths torch code imports from work by changing the package name, give the same objects as chainrule.nn, and
isinstance checks against torch's base classes (_BatchNorm, _DropoutNd, _MaxPoolNd, RNNBase ...) come out as
in torch. DataParallel runs the module in this process with torch's state_dict keys."""
import importlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.import_paths import PATHS

# (path, names) that torch code imports, each checked to resolve and, with torch, to exist in torch as well
IMPORTS = [
    ("nn.modules.loss", ["_Loss", "_WeightedLoss", "CrossEntropyLoss", "MSELoss"]),
    ("nn.modules.batchnorm", ["_BatchNorm", "_NormBase", "BatchNorm2d", "SyncBatchNorm"]),
    ("nn.modules.instancenorm", ["_InstanceNorm", "InstanceNorm2d"]),
    ("nn.modules.conv", ["_ConvNd", "Conv2d", "ConvTranspose2d"]),
    ("nn.modules.dropout", ["_DropoutNd", "Dropout", "Dropout2d"]),
    ("nn.modules.pooling", ["_MaxPoolNd", "_AvgPoolNd", "_AdaptiveAvgPoolNd", "_AdaptiveMaxPoolNd", "_LPPoolNd",
                            "MaxPool2d"]),
    ("nn.modules.rnn", ["RNNBase", "RNNCellBase", "LSTM", "GRUCell"]),
    ("nn.modules.module", ["Module"]),
    ("nn.modules.container", ["Sequential", "ModuleList", "ModuleDict"]),
    ("nn.modules.linear", ["Linear", "Identity"]),
    ("nn.modules.activation", ["ReLU", "MultiheadAttention"]),
    ("nn.modules.transformer", ["TransformerEncoderLayer"]),
    ("nn.modules.utils", ["_single", "_pair", "_triple", "_quadruple", "_ntuple", "_reverse_repeat_tuple",
                          "consume_prefix_in_state_dict_if_present"]),
    ("nn.modules", ["Linear", "Module"]),
    ("nn.parallel", ["DataParallel", "data_parallel"]),
    ("distributions.normal", ["Normal"]), ("distributions.categorical", ["Categorical"]),
    ("distributions.bernoulli", ["Bernoulli"]), ("distributions.multivariate_normal", ["MultivariateNormal"]),
    ("distributions.transformed_distribution", ["TransformedDistribution"]), ("distributions.beta", ["Beta"]),
    ("utils.data.dataset", ["Dataset", "TensorDataset", "Subset", "random_split"]),
    ("utils.data.dataloader", ["DataLoader", "default_collate"]),
    ("utils.data.sampler", ["SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]),
    ("utils.data.distributed", ["DistributedSampler"]), ("distributed", ["is_available", "is_initialized"]),
    ("distributions.half_cauchy", ["HalfCauchy"]), ("distributions.constraint_registry", ["biject_to"]),
    ("distributions.utils", ["logits_to_probs", "probs_to_logits", "broadcast_all"]),
    ("autograd.variable", ["Variable"]),
    ("amp.grad_scaler", ["GradScaler"]), ("amp.autocast_mode", ["autocast"]),
    ("cuda.amp", ["autocast", "GradScaler"]), ("cuda", ["is_available", "device_count"]),
    ("backends.cudnn", ["benchmark", "deterministic"]), ("backends.mps", ["is_available"]),
    ("serialization", ["save", "load"]),
]


@pytest.mark.parametrize("path,names", IMPORTS, ids=[p for p, _ in IMPORTS])
def test_torch_paths_import_and_name_the_same_objects(path, names):
    module = importlib.import_module(f"chainrule.{path}")
    top = cr
    for part in path.split("."):
        top = getattr(top, part)   # reachable by attribute as well: chainrule.nn.modules.loss._Loss
    assert top is module
    for name in names:
        obj = getattr(module, name)
        assert obj is not None
        if hasattr(nn, name) and callable(obj):
            assert getattr(nn, name) is obj   # the same class, whichever path imported it


@pytest.mark.parametrize("path,names", IMPORTS, ids=[p for p, _ in IMPORTS])
def test_the_paths_are_torchs(path, names):
    pytest.importorskip("torch", reason="torch is the oracle for its own module paths")
    module = importlib.import_module(f"torch.{path}")
    for name in names:
        assert hasattr(module, name), f"torch.{path} has no {name}: the list above claims a path torch lacks"


def test_every_registered_path_resolves_a_name_torch_has_there():
    pytest.importorskip("torch", reason="torch is the oracle for its own module paths")
    for path in PATHS:
        theirs = importlib.import_module(path.replace("chainrule", "torch", 1))
        ours = importlib.import_module(path)
        shared = [n for n in dir(theirs) if not n.startswith("__") and hasattr(ours, n)]
        assert shared, f"{path} resolves none of torch's names"
    with pytest.raises(ImportError):
        exec("from chainrule.nn.modules.loss import NoSuchLoss")
    with pytest.raises(AttributeError, match="chainrule looked in"):
        cr.nn.modules.loss.NoSuchLoss


def test_flags_set_through_a_module_path_are_the_attribute_values():
    import chainrule.backends.cudnn as cudnn
    before = cr.backends.cudnn.benchmark
    try:
        cudnn.benchmark = not before
        assert cr.backends.cudnn.benchmark is (not before)
    finally:
        cudnn.benchmark = before
    assert not cr.cuda.is_available() and cr.cuda.device_count() == 0


def test_module_utils_helpers_match_torch():
    pytest.importorskip("torch", reason="torch is the oracle here")
    from torch.nn.modules import utils as tu

    from chainrule.nn.modules import utils as cu
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, (1, 2), [4, 5, 6], "ab"):
            assert getattr(cu, name)(value) == getattr(tu, name)(value)
    assert cu._ntuple(5)(2) == tu._ntuple(5)(2)
    assert cu._reverse_repeat_tuple((1, 2, 3), 2) == tu._reverse_repeat_tuple((1, 2, 3), 2)


LAYERS = [("BatchNorm2d", (3,)), ("InstanceNorm2d", (3,)), ("SyncBatchNorm", (3,)), ("Dropout", ()),
          ("Dropout2d", ()), ("AlphaDropout", ()), ("MaxPool2d", (2,)), ("AvgPool1d", (2,)),
          ("AdaptiveAvgPool2d", (1,)), ("AdaptiveMaxPool1d", (2,)), ("LPPool2d", (2, 2)), ("LSTM", (3, 4)),
          ("GRU", (3, 4)), ("RNN", (3, 4)), ("LSTMCell", (3, 4)), ("RNNCell", (3, 4)), ("MSELoss", ()),
          ("CrossEntropyLoss", ()), ("BCEWithLogitsLoss", ()), ("Conv2d", (1, 2, 3)), ("ConvTranspose1d", (1, 2, 3))]
BASES = ["modules.batchnorm._NormBase", "modules.batchnorm._BatchNorm", "modules.instancenorm._InstanceNorm",
         "Dropout", "modules.dropout._DropoutNd", "modules.pooling._MaxPoolNd", "modules.pooling._AvgPoolNd",
         "modules.pooling._AdaptiveAvgPoolNd", "modules.pooling._AdaptiveMaxPoolNd", "modules.pooling._LPPoolNd",
         "RNNBase", "RNNCellBase", "modules.loss._Loss", "modules.loss._WeightedLoss", "modules.conv._ConvNd"]


def _resolve(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("layer,args", LAYERS, ids=[name for name, _ in LAYERS])
def test_isinstance_against_torchs_base_classes_agrees_with_torch(layer, args):
    torch = pytest.importorskip("torch", reason="torch is the oracle for its class hierarchy")
    ours, theirs = getattr(nn, layer)(*args), getattr(torch.nn, layer)(*args)
    for base in BASES:
        assert isinstance(ours, _resolve(nn, base)) == isinstance(theirs, _resolve(torch.nn, base)), (layer, base)


def test_norm_layers_reset_like_torch():
    bn = nn.BatchNorm1d(3)
    bn(cr.randn(8, 3) * 4 + 2)
    with cr.no_grad():
        bn.weight.mul_(3)
    bn.reset_running_stats()
    assert np.all(bn.running_mean.numpy() == 0) and np.all(bn.running_var.numpy() == 1)
    assert bn.num_batches_tracked.item() == 0 and np.all(bn.weight.detach().numpy() == 3)
    bn.reset_parameters()
    assert np.all(bn.weight.detach().numpy() == 1) and np.all(bn.bias.detach().numpy() == 0)


def test_rnn_base_builds_each_mode_as_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    for mode in ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"):
        ours, theirs = nn.RNNBase(mode, 3, 4, 2, bidirectional=True), torch.nn.RNNBase(mode, 3, 4, 2, bidirectional=True)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.RNNBase("LSTMX", 3, 4)


def test_data_parallel_runs_the_module_with_torchs_checkpoint_layout():
    torch = pytest.importorskip("torch", reason="torch is the oracle for its checkpoint keys")
    from chainrule.nn.modules.utils import consume_prefix_in_state_dict_if_present
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    wrapped = nn.DataParallel(net)
    theirs = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)))
    assert list(wrapped.state_dict()) == list(theirs.state_dict())
    assert repr(wrapped).replace("chainrule", "torch") == repr(theirs)
    x = cr.randn(5, 3)
    np.testing.assert_array_equal(wrapped(x).detach().numpy(), net(x).detach().numpy())
    assert wrapped.module is net and nn.parallel.data_parallel(net, x).shape == (5, 2)
    state = dict(wrapped.state_dict())
    consume_prefix_in_state_dict_if_present(state, "module.")
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), net(x).detach().numpy())
