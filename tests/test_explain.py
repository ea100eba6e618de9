"""Shows its work: anomaly detection names the true first op, missing_grads gives reasons, the chain-rule trace
reproduces the texts' worked examples, and the four backprop equations equal what the engine computes."""
import re
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.autograd.engine import sum_to_shape


# ---- detect_anomaly ----------------------------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3))
        self.head = nn.Linear(3, 1)

    def forward(self, x):
        h = self.body(x)
        return self.head(h).sqrt()    # sqrt at 0 has an infinite derivative


def test_anomaly_backward_names_op_module_line_and_product():
    m = Net()
    with cr.no_grad():
        m.head.weight.fill_(0.0)
        m.head.bias.fill_(0.0)
    with pytest.raises(cr.AnomalyError) as info:
        with cr.autograd.detect_anomaly():
            m(cr.randn(4, 2)).sum().backward()
    msg = str(info.value)
    assert "backward pass of SqrtBackward" in msg
    assert "module:  model" in msg
    assert "return self.head(h).sqrt()" in msg
    assert "upstream gradient 1 × local derivative" in msg and "1/(2√x)" in msg and "= inf" in msg


def test_anomaly_forward_names_the_true_first_op_inside_a_module():
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with cr.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
        m[2].weight.fill_(3e38)
    x = cr.ones(3, 2) * 10
    with pytest.raises(cr.AnomalyError) as info:
        with cr.autograd.detect_anomaly():
            m(x)
    msg = str(info.value)
    assert "forward pass of Linear" in msg and "overflow" in msg and "module:  model.2" in msg
    x = cr.tensor([1.0, 0.0], requires_grad=True)
    with pytest.raises(cr.AnomalyError, match=r"(?s)forward pass of Log.*log of 0.*test_explain.py"):
        with cr.autograd.detect_anomaly():
            y = x * 2
            z = y.log()          # the true first op: log(0) = -inf
            (z * 0).sum().backward()


def test_anomaly_zero_times_inf_in_backward():
    x = cr.tensor([0.0, 4.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.AnomalyError, match=r"(?s)SqrtBackward.*\(0 · inf\)"):
        with cr.autograd.detect_anomaly():
            y = cr.where(x > 0, x.sqrt(), cr.zeros_like(x))   # the classic: the unselected branch still differentiates
            y.sum().backward()


def test_anomaly_off_means_no_overhead_hooks():
    from chainrule.autograd.grad_mode import STATE
    with cr.autograd.detect_anomaly():
        assert STATE.observers
    assert not STATE.observers


# ---- missing_grads -------------------------------------------------------------------------------------------------
def test_missing_grads_reasons():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(2, 2), nn.Linear(2, 2)
            self.frozen = nn.Linear(2, 2).requires_grad_(False)
            self.nograd, self.det = nn.Linear(2, 2), nn.Linear(2, 2)

        def forward(self, x):
            with cr.no_grad():
                a = self.nograd(x)
            b = self.det(x).detach()
            return (self.used(x) + self.frozen(x) + a + b).sum()
    m = M()
    m(cr.randn(3, 2)).backward()
    reasons = dict(cr.diagnose.missing_grads(m))
    assert "used.weight" not in reasons
    assert "never ran" in reasons["unused.weight"]
    assert "requires_grad is off" in reasons["frozen.bias"]
    assert "no_grad" in reasons["nograd.weight"]
    assert "detached" in reasons["det.weight"]


# ---- the chain rule, traced ----------------------------------------------------------------------------------------
def test_trace_example1_digit_for_digit():
    tr = cr.explain.trace_expression("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    text = str(tr)
    for line in ["q1 = x + y = 3", "f = q1 × z = -12", "df/dq1 += df/df × ∂f/∂q1 = 1 × -4 = -4",
                 "df/dz += df/df × ∂f/∂z = 1 × 3 = 3", "df/dx += df/dq1 × ∂q1/∂x = -4 × 1 = -4",
                 "df/dx = -4", "df/dy = -4", "df/dz = 3"]:
        assert line in text, line


def test_trace_example2_sigmoid_neuron_digit_for_digit():
    text = str(cr.explain.neuron_example())
    for line in ["q4 = q3 + b = 0.2", "sigmoid(q4) = 0.5498", "L = -q11 = 0.5981",
                 "= -1.8187 × 0.2475 = -0.4502", "dL/dw1 = -0.9003", "dL/dw2 = -1.3505", "dL/db = -0.4502"]:
        assert line in text, line


def test_trace_numbers_intermediates_in_the_order_the_code_ran():
    text = str(cr.explain.trace_expression("w1 * x1 + w2 * x2", {"w1": 0.5, "x1": 2, "w2": -0.3, "x2": 3}))
    lines = text.splitlines()
    assert lines.index("  q1 = w1 × x1 = 1") < lines.index("  q2 = w2 × x2 = -0.9") < lines.index("  f = q1 + q2 = 0.1")
    # the result lists the variables in the order they were given, whatever order the sweep reached them in
    result = lines[lines.index("Result:") + 1:]
    assert [r.split(" = ")[0].strip() for r in result] == ["df/dw1", "df/dx1", "df/dw2", "df/dx2"]
    neuron = str(cr.explain.neuron_example())
    assert "q1 = w1 × x1 = 1" in neuron and "q6 = log(q5) = -0.5981" in neuron and "L = -q11 = 0.5981" in neuron


def test_trace_expressions_read_as_written_and_call_the_usual_functions():
    tr = str(cr.explain.trace_expression("x ** 3 + x ** y - abs(y) + max(x, y) * softplus(-x)", {"x": 0.5, "y": 2}))
    for line in ["q1 = x ** 3 = 0.125", "q2 = x ** y = 0.25", "q4 = abs(y) = 2", "q6 = maximum(x, y) = 2",
                 "q7 = -x = -0.5", "df/dx = "]:
        assert line in tr, line
    # d/dx: 3x² + y·x^(y-1) + 2·softplus'(-x)·(-1) = 0.75 + 1 - 2·σ(-0.5); d/dy: x^y ln x - 1 + softplus(-0.5)
    sig = 1 / (1 + np.exp(0.5))
    assert f"df/dx = {0.75 + 1 - 2 * sig:.4f}" in tr
    assert f"df/dy = {0.25 * np.log(0.5) - 1 + np.log1p(np.exp(-0.5)):.4f}" in tr


def test_trace_expression_errors_name_the_unknown_function_or_variable():
    with pytest.raises(ValueError, match="unknown function 'foo'.*exp.*sigmoid"):
        cr.explain.trace_expression("foo(x) + 1", {"x": 1.0})
    with pytest.raises(ValueError, match="name 'q' is not defined; give every variable a value"):
        cr.explain.trace_expression("x * q", {"x": 1.0})
    with pytest.raises(ValueError, match="not a valid expression"):
        cr.explain.trace_expression("x +* 2", {"x": 1.0})
    # the expression's own mistakes are ValueErrors naming it (the CLI prints them as one line, not a traceback)
    for expression, said in [("softmax(x)[0]", "missing 1 required positional argument: 'dim'"),
                             ("x[5]", "index 5 is out of bounds"), ("sum(x, 3)", "dim 3 is out of range"),
                             ("x.foo()", "no attribute 'foo'")]:
        with pytest.raises(ValueError, match=rf"trace: '{re.escape(expression)}' fails: .*{said}"):
            cr.explain.trace_expression(expression, {"x": [1.0, 2.0]})


def test_trace_shows_accumulation_and_broadcast_sums():
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    with cr.explain.recording() as values:
        y = x * x + x
    text = str(cr.explain.trace(y, {"x": x}, values=values))
    assert "q1 = x × x = 9" in text
    assert "Accumulation" in text and "df/dx = 7" in text
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    b = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
    text = str(cr.explain.trace((w + b).sum(), {"w": w, "b": b}))
    assert "summed over broadcast axes to ()" in text and "df/db = 2" in text


def _traced_graphs():
    t = lambda v: cr.tensor(v, dtype=cr.float64, requires_grad=True)  # noqa: E731
    W, x, b = t([[1.0, 2.0], [3.0, -4.0]]), t([0.5, -1.0]), t(0.25)
    A = t(np.arange(6.0).reshape(2, 3) / 7)
    yield {"W": W, "x": x, "b": b}, lambda: cr.sigmoid(W @ x + b).sum()
    yield {"W": W, "x": x}, lambda: cr.softmax(W @ x, 0)[0] + W[:, 1:].sum()
    yield {"A": A, "x": x}, lambda: (cr.tanh(A) * A.mean(0)).sum() + cr.logsumexp(x * 3, 0)
    yield {"A": A}, lambda: (A.T @ A).trace() / A.norm()


def _holds(step, edge):
    up = np.asarray(step.upstream, np.float64)
    if edge.kind == "Jᵀ":
        return np.allclose((edge.local.T @ up.reshape(-1)).reshape(edge.product.shape), edge.product)
    assert edge.kind == "×"
    full = up * edge.local
    if edge.full is not None:   # then summed over the broadcast axes, as the line says
        assert np.allclose(edge.full, full)
        full = sum_to_shape(cr.tensor(full), np.shape(edge.product)).numpy()
    return np.allclose(full, edge.product)


def test_every_line_of_a_trace_is_a_true_equation():
    """Each step's line states how the input's gradient follows from the upstream one: g × local (elementwise,
    or a scalar g times a gradient) or (∂q/∂x)ᵀ · g with the Jacobian printed. Both must give the product the
    engine computed, and the totals must be the engine's .grad (matmul once printed g × Wᵀ1, which is not)."""
    for names, build in _traced_graphs():
        for t in names.values():
            t.grad = None
        with cr.explain.recording() as values:
            out = build()
        tr = cr.explain.trace(out, names, values=values)
        kinds = set()
        for step in tr.steps:
            for edge in step.edges:
                if edge is not None:
                    kinds.add(edge.kind)
                    assert _holds(step, edge), (step.node, edge.kind)
        assert "Jᵀ" in kinds and "×" in kinds
        for name, t in names.items():
            np.testing.assert_allclose(sum(np.asarray(p) for p in tr.grads[name]), t.grad.numpy(), rtol=1e-12)


def test_trace_of_a_matrix_product_prints_the_jacobian_transpose():
    text = str(cr.explain.trace_expression("x * y", {"x": 2, "y": 3}))
    assert "df/dx += df/df × ∂f/∂x = 1 × 3 = 3" in text
    W = cr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cr.float64, requires_grad=True)
    x = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True)
    text = str(cr.explain.trace(cr.sigmoid(W @ x).sum(), {"W": W, "x": x}))
    assert "df/dx += (∂q1/∂x)ᵀ · df/dq1 = [[1, 2], [3, 4]]ᵀ · [0.1491, 0.0701] = [0.3595, 0.5787]" in text
    assert "df/dW += (∂q1/∂W)ᵀ · df/dq1 = [[0.5, -1, 0, 0], [0, 0, 0.5, -1]]ᵀ" in text
    assert "q1 = W @ x = (not kept: record with chainrule.explain.recording())" in text
    big = cr.randn(100, dtype=cr.float64, requires_grad=True)
    text = str(cr.explain.trace(cr.softmax(big, 0).max(), {"v": big}))
    assert "the vector-Jacobian product of df/dq1 through q1 (its Jacobian has more than 64 rows)" in text


def test_trace_names_a_custom_function_by_its_class():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    text = str(cr.explain.trace(Cube.apply(x).sum(), {"x": x}))
    assert "q1 = cube(x)" in text and "df/dx += df/dq1 × ∂q1/∂x = [1, 1] × [3, 12] = [3, 12]" in text


def test_trace_markdown_and_html():
    tr = cr.explain.trace_expression("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert "| step | node | upstream | local | product |" in tr.to_markdown()
    page = tr.to_html()
    assert page.startswith("<!doctype html>") and "df/dx = -4" in page


def test_trace_cli():
    r = subprocess.run([sys.executable, "-m", "chainrule", "trace", "(x + y) * z", "x=-2", "y=5", "z=-4"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "df/dx = -4" in r.stdout
    r = subprocess.run([sys.executable, "-m", "chainrule", "trace", "--example", "neuron"], capture_output=True,
                       text=True)
    assert "dL/dw1 = -0.9003" in r.stdout
    r = subprocess.run([sys.executable, "-m", "chainrule", "trace", "sum(sigmoid(W @ x))", "W=[[1,2],[3,4]]",
                        "x=[0.5,-1]"], capture_output=True, text=True)
    assert r.returncode == 0 and "df/dx = [0.3595, 0.5787]" in r.stdout and "(∂q1/∂x)ᵀ" in r.stdout
    r = subprocess.run([sys.executable, "-m", "chainrule", "trace", "x * 2", "x=[1,2"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "a list of numbers" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "chainrule", "trace", "x * q", "x=1"], capture_output=True, text=True)
    assert r.returncode == 2 and "name 'q' is not defined" in r.stderr and "Traceback" not in r.stderr


def test_four_backprop_equations_equal_the_engine():
    """dZ² = A² − Y, dW² = (1/m)·dZ²·A¹ᵀ, dZ¹ = W²ᵀdZ² ⊙ g′(Z¹), dW¹ = (1/m)·dZ¹·Xᵀ (column-sample notation)."""
    rng = np.random.default_rng(0)
    m, n_x, n_h = 8, 3, 4
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    W1, b1 = rng.standard_normal((n_h, n_x)), rng.standard_normal((n_h, 1))
    W2, b2 = rng.standard_normal((1, n_h)), rng.standard_normal((1, 1))
    P = [cr.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    Z1 = P[0] @ cr.tensor(X) + P[1]
    A1 = cr.tanh(Z1)
    Z2 = P[2] @ A1 + P[3]
    loss = nn.functional.binary_cross_entropy_with_logits(Z2, cr.tensor(Y))
    loss.backward()
    z1 = W1 @ X + b1
    a1 = np.tanh(z1)
    a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
    dZ2 = a2 - Y
    dW2 = dZ2 @ a1.T / m
    dZ1 = (W2.T @ dZ2) * (1 - a1 ** 2)
    dW1 = dZ1 @ X.T / m
    np.testing.assert_allclose(P[2].grad.numpy(), dW2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(P[3].grad.numpy(), dZ2.sum(1, keepdims=True) / m, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(P[0].grad.numpy(), dW1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(P[1].grad.numpy(), dZ1.sum(1, keepdims=True) / m, rtol=1e-12, atol=1e-14)
