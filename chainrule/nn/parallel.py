"""torch.nn.parallel in one CPU process. DataParallel runs its module as it is, which is what torch's does when no
GPU is visible, so a script that wraps its model keeps working, and its checkpoints keep torch's `module.` prefix;
consume_prefix_in_state_dict_if_present strips that prefix to load them into the bare model."""
from .module import Module


class DataParallel(Module):
    """DataParallel(module, device_ids=None, output_device=None, dim=0): forward is module(*inputs, **kwargs);
    state_dict keys are the module's under `module.`, as in torch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []   # torch's value when it finds no GPU: everything runs on the module's device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """torch.nn.parallel.data_parallel: module(*inputs, **module_kwargs) in this process."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip `prefix` (e.g. 'module.' from a DataParallel checkpoint) from the keys that start with it, in place."""
    for key in list(state_dict):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
