"""torch's module paths for the names chainrule keeps elsewhere, so that code written for torch imports them by
changing the package name only:

    from chainrule.nn.modules.loss import _WeightedLoss        # torch.nn.modules.loss
    from chainrule.nn.modules.utils import _pair
    from chainrule.distributions.normal import Normal          # torch.distributions.normal
    from chainrule.utils.data.dataloader import default_collate
    from chainrule.cuda.amp import autocast, GradScaler
    import chainrule.backends.cudnn as cudnn; cudnn.benchmark = True

Each path is a module object in sys.modules (and an attribute of its parent) that looks names up, on first use,
in the chainrule modules listed for it: nothing is copied, so a class imported by either path is the same class,
and a name chainrule lacks is an AttributeError (ImportError in `from … import`) that says where it looked.
"""
import importlib
import sys
import types

_NN = ["chainrule.nn.module", "chainrule.nn.global_hooks", "chainrule.nn.loss", "chainrule.nn.norm", "chainrule.nn.conv", "chainrule.nn.layers",
       "chainrule.nn.containers", "chainrule.nn.rnn", "chainrule.nn.attention", "chainrule.nn.embedding",
       "chainrule.nn.adaptive", "chainrule.nn.lazy", "chainrule.nn.parameter", "chainrule.nn.parallel",
       "chainrule.nn"]
# torch.nn.modules' files: any of them finds any nn class (a superset of torch's, which splits them finer)
_NN_MODULE_FILES = ["activation", "adaptive", "batchnorm", "channelshuffle", "container", "conv", "distance",
                    "dropout", "flatten", "fold", "instancenorm", "lazy", "linear", "loss", "module",
                    "normalization", "padding", "pixelshuffle", "pooling", "rnn", "sparse", "transformer",
                    "upsampling", "utils"]
_DISTRIBUTIONS = ["bernoulli", "beta", "binomial", "categorical", "cauchy", "chi2", "continuous_bernoulli",
                  "dirichlet", "exp_family", "exponential", "fishersnedecor", "gamma", "generalized_pareto", "geometric", "gumbel",
                  "half_cauchy", "half_normal", "independent",
                  "inverse_gamma", "kumaraswamy", "laplace", "lkj_cholesky", "log_normal", "logistic_normal",
                  "lowrank_multivariate_normal", "mixture_same_family", "multinomial", "negative_binomial",
                  "normal", "one_hot_categorical", "pareto", "poisson", "relaxed_bernoulli", "relaxed_categorical",
                  "studentT", "transformed_distribution", "uniform", "von_mises", "weibull", "wishart"]
_DATA = ["chainrule.data.loader", "chainrule.data.sampler", "chainrule.data"]

PATHS = {
    "chainrule.nn.modules": _NN,
    **{f"chainrule.nn.modules.{name}": _NN for name in _NN_MODULE_FILES},
    **{f"chainrule.distributions.{name}": ["chainrule.distributions"] for name in _DISTRIBUTIONS},
    "chainrule.utils.data.dataset": _DATA,
    "chainrule.utils.data.dataloader": _DATA,
    "chainrule.utils.data.sampler": _DATA,
    "chainrule.utils.data.distributed": _DATA,
    "chainrule.autograd.variable": ["chainrule.legacy_types"],
    "chainrule.amp.grad_scaler": ["chainrule.amp"],
    "chainrule.amp.autocast_mode": ["chainrule.amp"],
    "chainrule.serialization": ["chainrule.io"],
}


def _lookup(path, sources):
    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        for source in sources:
            module = importlib.import_module(source)
            if name in vars(module):
                return vars(module)[name]
        raise AttributeError(f"module {path!r} has no attribute {name!r} (it is torch's path "
                             f"{path.replace('chainrule', 'torch', 1)}; chainrule looked in {', '.join(sources)})")
    return __getattr__


def namespace(path, doc=None, **attributes):
    """A module object at `path` holding `attributes`, registered so that `import path` finds it and linked from
    its parent when that is loaded (for torch's attribute-only namespaces: cuda, backends.cudnn …)."""
    module = sys.modules.get(path)
    if module is None:
        module = sys.modules[path] = types.ModuleType(path, doc)
    vars(module).update(attributes)
    parent, _, child = path.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


def install():
    """Register every path of PATHS (called once, at the end of chainrule's import)."""
    for path in sorted(PATHS, key=lambda p: p.count(".")):   # parents before children
        module = namespace(path, f"torch's {path.replace('chainrule', 'torch', 1)}: names from "
                                 f"{', '.join(PATHS[path])}")
        module.__getattr__ = _lookup(path, PATHS[path])
