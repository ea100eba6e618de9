"""Where the time goes, op by op, forward and backward (torch.autograd.profiler / torch.profiler's interface).

    with cr.profiler.profile(record_shapes=True) as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")          # open in chrome://tracing or ui.perfetto.dev

While a profile is active every op's forward is timed (Op.apply and Function.apply are wrapped for the duration,
so nothing is paid when no profile runs), every node's backward is timed by the engine's observer calls (the
interval since the previous node finished), and record_function("name") ranges are timed as their own rows.
Self time is a row's time minus the rows nested in it; events are named like the graph (Linear, LinearBackward).
"""
import json
import time

from .function import Function, Op
from .grad_mode import STATE

_ACTIVE = []   # the profiles recording now (innermost last)


class FunctionEvent:
    """One timed interval: name, start and end in µs since the profile began, nested children's total time."""
    __slots__ = ("name", "start_us", "end_us", "child_us", "input_shapes", "phase")

    def __init__(self, name, start_us, end_us, input_shapes, phase):
        self.name, self.start_us, self.end_us = name, start_us, end_us
        self.child_us, self.input_shapes, self.phase = 0.0, input_shapes, phase

    @property
    def cpu_time_total(self):
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - self.child_us

    def __repr__(self):
        return f"<FunctionEvent {self.name} {self.cpu_time_total:.1f} µs>"


class FunctionEventAvg:
    """Events with the same name (and input shapes, when grouped by them) added up."""

    def __init__(self, key, input_shapes):
        self.key, self.input_shapes = key, input_shapes
        self.count, self.cpu_time_total, self.self_cpu_time_total = 0, 0.0, 0.0

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total

    @property
    def cpu_time(self):
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.1f}us "
                f"cpu_time={self.cpu_time_total:.1f}us count={self.count}>")


def _us(value):
    return f"{value / 1000:.3f}ms" if value >= 1000 else f"{value:.3f}us"


class EventList(list):
    """A list of FunctionEvent or FunctionEventAvg with torch's table()."""

    def table(self, sort_by="self_cpu_time_total", row_limit=100, header=None, **unused):
        rows = list(self)
        if sort_by:
            rows.sort(key=lambda e: getattr(e, sort_by, 0), reverse=True)
        rows = rows[:row_limit] if row_limit and row_limit > 0 else rows
        total_self = sum(e.self_cpu_time_total for e in self) or 1.0
        shapes = any(getattr(e, "input_shapes", None) for e in rows)
        head = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        if shapes:
            head.append("Input Shapes")
        body = []
        for e in rows:
            count = getattr(e, "count", 1)
            line = [getattr(e, "key", getattr(e, "name", "")), f"{100 * e.self_cpu_time_total / total_self:.2f}%",
                    _us(e.self_cpu_time_total), f"{100 * e.cpu_time_total / total_self:.2f}%",
                    _us(e.cpu_time_total), _us(e.cpu_time_total / max(count, 1)), str(count)]
            if shapes:
                line.append(str(list(e.input_shapes or [])))
            body.append(line)
        widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
        rule = "  ".join("-" * w for w in widths)

        def fmt(row):   # the name left-aligned, the numbers right-aligned
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        out = [header] if header else []
        out += [rule, fmt(head), rule] + [fmt(r) for r in body] + [rule, f"Self CPU time total: {_us(total_self)}"]
        return "\n".join(out)

    def total_average(self):
        avg = FunctionEventAvg("Total", None)
        for e in self:
            avg.add(e)
        return avg


class profile:
    """Record the ops run inside the block. torch.autograd.profiler.profile's arguments; only the CPU exists, so
    use_cuda/use_device and memory profiling are accepted and record nothing extra."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        self.enabled, self.record_shapes = enabled, record_shapes
        self.function_events = EventList()
        self._stack = []
        self._backward_child_us = 0.0

    # ---- recording ----------------------------------------------------------------------------------------------
    def _now(self):
        return (time.perf_counter() - self._t0) * 1e6

    def _open(self, name, shapes, phase):
        event = FunctionEvent(name, self._now(), None, shapes, phase)
        self._stack.append(event)
        return event

    def _close(self, event):
        event.end_us = self._now()
        self._stack.pop()
        if STATE.in_backward and event.phase == "forward" and not (self._stack and self._stack[-1].phase == "forward"):
            # an op a backward formula ran: part of the backward node being timed, not of the enclosing range
            self._backward_child_us += event.cpu_time_total
        elif self._stack:
            self._stack[-1].child_us += event.cpu_time_total
        self.function_events.append(event)

    def on_forward(self, node, outs, inputs):
        pass

    def on_backward_start(self):
        self._last_backward = self._now()
        self._backward_child_us = 0.0

    def on_backward(self, node, grads_out, grads_in):
        """The interval since the previous node finished is this node's backward (engine bookkeeping included);
        ops its formula ran are its children, so they are not counted twice."""
        end = self._now()
        start = getattr(self, "_last_backward", end)
        shapes = [tuple(g.shape) for g in grads_out if g is not None] if self.record_shapes else None
        event = FunctionEvent(node.name(), start, end, shapes, "backward")
        event.child_us, self._backward_child_us = self._backward_child_us, 0.0
        if self._stack:
            self._stack[-1].child_us += event.cpu_time_total
        self.function_events.append(event)
        self._last_backward = end

    # ---- the block ------------------------------------------------------------------------------------------------
    def __enter__(self):
        if not self.enabled:
            return self
        self._t0 = time.perf_counter()
        if not _ACTIVE:
            _install()
        _ACTIVE.append(self)
        self._prev_observers = STATE.observers
        STATE.observers = STATE.observers + (self,)
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return
        STATE.observers = self._prev_observers
        _ACTIVE.remove(self)
        if not _ACTIVE:
            _uninstall()
        self.function_events.sort(key=lambda e: e.start_us)

    # ---- reading ----------------------------------------------------------------------------------------------------
    def events(self):
        return self.function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        groups = {}
        for e in self.function_events:
            shapes = tuple(map(tuple, e.input_shapes)) if group_by_input_shape and e.input_shapes else None
            key = (e.name, shapes)
            if key not in groups:
                groups[key] = FunctionEventAvg(e.name, e.input_shapes if group_by_input_shape else None)
            groups[key].add(e)
        return EventList(groups.values())

    def table(self, **kwargs):
        return self.key_averages().table(**kwargs)

    def export_chrome_trace(self, path):
        """The events as Chrome trace JSON (chrome://tracing, ui.perfetto.dev): one complete event each."""
        events = [{"name": e.name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total, "pid": 0, "tid": 0,
                   "cat": e.phase, "args": {"Input Shapes": e.input_shapes} if e.input_shapes else {}}
                  for e in self.function_events]
        with open(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)

    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self.function_events)


class record_function:
    """A named range in the profile (torch's record_function): `with record_function("attention"): ...`, also a
    decorator. Costs nothing when no profile is active."""

    def __init__(self, name, args=None):
        self.name = name

    def __enter__(self):
        self._events = [(p, p._open(self.name, None, "user")) for p in _ACTIVE]
        return self

    def __exit__(self, *exc):
        for p, event in self._events:
            p._close(event)

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapper


# ---- the forward timing wrappers, installed only while a profile is active -----------------------------------------
_ORIGINAL = {}


def _timed(original):
    def apply(cls, *args, **kwargs):
        shapes = [tuple(a.shape) for a in args if hasattr(a, "shape")] if any(p.record_shapes for p in _ACTIVE) \
            else None
        events = [(p, p._open(cls.__name__, shapes if p.record_shapes else None, "forward")) for p in _ACTIVE]
        try:
            return original.__func__(cls, *args, **kwargs)
        finally:
            for p, event in events:
                p._close(event)
    return classmethod(apply)


def _install():
    for base in (Op, Function):
        _ORIGINAL[base] = base.__dict__["apply"]
        base.apply = _timed(_ORIGINAL[base])


def _uninstall():
    for base, original in _ORIGINAL.items():
        base.apply = original
    _ORIGINAL.clear()
