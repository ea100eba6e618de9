"""torch.profiler's names over chainrule.autograd.profiler: profile(activities=[ProfilerActivity.CPU],
record_shapes=True) as a context manager, record_function, schedule and prof.step(). Only the CPU exists; a
schedule is accepted and every step inside the block is recorded, and on_trace_ready(prof) runs when the block
ends."""
import types

from .autograd.profiler import EventList, profile as _autograd_profile, record_function  # noqa: F401

ProfilerActivity = types.SimpleNamespace(CPU="CPU", CUDA="CUDA", XPU="XPU", MTIA="MTIA")


def schedule(*, wait, warmup, active, repeat=0, skip_first=0):
    """Accepted for torch's signature; chainrule's profile records every step."""
    return lambda step: None


class profile(_autograd_profile):
    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, **unused):
        super().__init__(record_shapes=record_shapes)
        self.on_trace_ready, self.step_num = on_trace_ready, 0

    def start(self):
        self.__enter__()

    def stop(self):
        self.__exit__(None, None, None)

    def step(self):
        self.step_num += 1

    def __exit__(self, *exc):
        super().__exit__(*exc)
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)
