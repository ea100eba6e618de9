"""torch.optim's hooks: around every optimizer's step (per optimizer, or for all of them with
register_optimizer_step_pre_hook / _post_hook) and around state_dict / load_state_dict. Optimizer wraps each
subclass's step() here once, so a user's own Optimizer gets the hooks too."""
import functools
from collections import OrderedDict

from ..utils.hooks import add_hook, hook_store

_GLOBAL_PRE, _GLOBAL_POST = OrderedDict(), OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """hook(optimizer, args, kwargs) -> None or new (args, kwargs), before every optimizer's step."""
    return add_hook(_GLOBAL_PRE, hook)


def register_optimizer_step_post_hook(hook):
    """hook(optimizer, args, kwargs), after every optimizer's step."""
    return add_hook(_GLOBAL_POST, hook)


def with_step_hooks(step):
    """step wrapped to run the global and the optimizer's own pre hooks (which may replace the arguments) and
    post hooks."""
    if getattr(step, "_runs_step_hooks", False):
        return step

    @functools.wraps(step)
    def hooked_step(self, *args, **kwargs):
        own_pre, own_post = self.__dict__.get("_step_pre_hooks"), self.__dict__.get("_step_post_hooks")
        if _GLOBAL_PRE or own_pre:
            for hook in list(_GLOBAL_PRE.values()) + list((own_pre or {}).values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"{type(self).__name__}: a step pre-hook must return None or a tuple "
                                           f"(new_args, new_kwargs), got {result!r}")
                    args, kwargs = result
        out = step(self, *args, **kwargs)
        if _GLOBAL_POST or own_post:
            for hook in list((own_post or {}).values()) + list(_GLOBAL_POST.values()):
                hook(self, args, kwargs)
        return out
    hooked_step._runs_step_hooks = True
    return hooked_step


class OptimizerHooks:
    """The registration methods (a base class of Optimizer)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = with_step_hooks(cls.__dict__["step"])

    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None or new (args, kwargs), before this optimizer's step."""
        return add_hook(hook_store(self, "_step_pre_hooks"), hook)

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs), after this optimizer's step."""
        return add_hook(hook_store(self, "_step_post_hooks"), hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """hook(optimizer), before state_dict() collects the state."""
        return add_hook(hook_store(self, "_state_dict_pre_hooks"), hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """hook(optimizer, state_dict) -> None or a state dict to return instead."""
        return add_hook(hook_store(self, "_state_dict_post_hooks"), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """hook(optimizer, state_dict) -> None or the state dict to load instead."""
        return add_hook(hook_store(self, "_load_state_dict_pre_hooks"), hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """hook(optimizer), after load_state_dict."""
        return add_hook(hook_store(self, "_load_state_dict_post_hooks"), hook, prepend)


def with_state_dict_hooks(state_dict):
    """Optimizer.state_dict between its pre hooks and its post hooks (which may return a replacement)."""
    @functools.wraps(state_dict)
    def hooked(self):
        for hook in list(hook_store(self, "_state_dict_pre_hooks").values()):
            hook(self)
        state = state_dict(self)
        for hook in list(hook_store(self, "_state_dict_post_hooks").values()):
            new = hook(self, state)
            state = state if new is None else new
        return state
    return hooked


def with_load_state_dict_hooks(load_state_dict):
    """Optimizer.load_state_dict after its pre hooks (which may return a replacement) and before its post hooks."""
    @functools.wraps(load_state_dict)
    def hooked(self, state_dict):
        for hook in list(hook_store(self, "_load_state_dict_pre_hooks").values()):
            new = hook(self, state_dict)
            state_dict = state_dict if new is None else new
        load_state_dict(self, state_dict)
        for hook in list(hook_store(self, "_load_state_dict_post_hooks").values()):
            hook(self)
    return hooked
