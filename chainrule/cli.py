"""The `chainrule` command: check (gradcheck every registered op), and the jobs later issues add."""
import argparse
import sys

import numpy as np

from . import __version__


def _table(title, columns, rows, summary):
    """A rich table when rich is installed, plain aligned text otherwise."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
        print(title)
        print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
        for r in rows:
            print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))
        print(summary)
        return
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*[str(v) for v in r])
    console = Console()
    console.print(table)
    console.print(summary)


def check_ops(only=None):
    """Gradcheck every registered op on all its samples in float64; returns (rows, n_failed)."""
    import chainrule as cr
    from .ops.registry import OPS
    from .autograd.gradcheck import analytical_jacobians, numerical_jacobians, relative_difference
    rows, failed, n_samples = [], 0, 0
    for name in sorted(OPS):
        if only and name not in only:
            continue
        info = OPS[name]
        worst, ok, n = 0.0, True, 0
        for i, s in enumerate(info.samples):
            flat, call, _ = s.build(np.random.default_rng(1000 + i),
                                    lambda a, g: cr.tensor(a).requires_grad_(True) if g else cr.tensor(a))
            if not flat:
                continue
            n += 1
            eps, atol, rtol = s.check.get("eps", 1e-6), s.check.get("atol", 1e-5), s.check.get("rtol", 1e-3)
            num, ana = numerical_jacobians(call, flat, eps), analytical_jacobians(call, flat)
            for nj, aj in zip(num, ana):
                if nj is None or nj.size == 0:
                    continue
                significant = np.maximum(np.abs(aj), np.abs(nj)) > 1e-6   # ignore entries that are ~0 in both
                if significant.any():
                    worst = max(worst, float(np.max(relative_difference(aj, nj)[significant])))
                ok &= bool(np.all(np.abs(aj - nj) <= atol + rtol * np.abs(nj)))
        n_samples += n
        failed += not ok
        rows.append((name, n, f"{worst:.2e}", "pass" if ok else "FAIL"))
    return rows, failed, n_samples


def check_model(path):
    """Gradcheck a user's model file on one batch; returns the explain report."""
    import runpy

    import chainrule as cr
    ns = runpy.run_path(path)
    model = ns.get("model") or (ns["build_model"]() if "build_model" in ns else None)
    if model is None or "batch" not in ns:
        raise ValueError(f"{path}: define `model` (an nn.Module) and `batch = (inputs, targets)`")
    x, y = ns["batch"]
    model.double()
    x = x.double() if x.dtype.kind == "f" else x
    y = y.double() if y.dtype.kind == "f" else y
    loss_fn = ns.get("loss_fn") or (cr.nn.CrossEntropyLoss() if y.dtype.kind == "i" else cr.nn.MSELoss())
    named = list(model.named_parameters())
    report = cr.autograd.explain_gradcheck(lambda *ps: loss_fn(model(x), y), [p for _, p in named],
                                           names=[n for n, _ in named])
    return report, named


def cmd_check(args):
    if args.model:
        report, named = check_model(args.model)
        print(f"chainrule check --model {args.model}: {len(named)} parameter tensors, "
              f"{sum(p.numel() for _, p in named)} entries, one batch, float64")
        print(report)
        return 0 if report.ok else 1
    rows, failed, n_samples = check_ops(args.ops)
    summary = (f"{len(rows)} ops, {n_samples} samples gradchecked in float64 against central differences: "
               f"{len(rows) - failed} passed, {failed} failed")
    _table("chainrule check: every registered op", ["op", "samples", "max rel. error", "result"], rows, summary)
    return 1 if failed else 0


def _trace_value(pair, text):
    """A number (x=1.5) or a nested list of numbers (W=[[1,2],[3,4]]) for `chainrule trace`."""
    import ast
    try:
        value = np.asarray(ast.literal_eval(text.strip()), dtype=np.float64)
    except (ValueError, SyntaxError, TypeError):
        raise ValueError(f"expected NAME=NUMBER or NAME=[...] (a list of numbers, nested for a matrix), "
                         f"got {pair!r}") from None
    return value if value.ndim else float(value)


def cmd_trace(args):
    from .explain import neuron_example, trace_expression
    if args.example == "neuron":
        tr = neuron_example()
    else:
        expression = args.expression or "(x + y) * z"
        pairs = args.values or (["x=-2", "y=5", "z=-4"] if not args.expression else [])
        values = {}
        for p in pairs:
            name, eq, v = p.partition("=")
            values[name.strip()] = _trace_value(p, v)
            if not eq:
                raise ValueError(f"expected NAME=NUMBER or NAME=[...], got {p!r}")
        tr = trace_expression(expression, values)
    text = {"text": tr.to_text, "markdown": tr.to_markdown, "html": tr.to_html}[args.format]()
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


def examples_dir():
    import os
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def list_examples():
    """[(name, first docstring line)] for every example script."""
    import ast
    import os
    folder = examples_dir()
    if not os.path.isdir(folder):
        raise ValueError(f"no examples folder at {folder}; the examples ship with a source checkout "
                         f"(pip install -e .)")
    out = []
    for f in sorted(os.listdir(folder)):
        if f.endswith(".py") and not f.startswith("_") and f != "textbook_numpy.py":
            with open(os.path.join(folder, f)) as fh:
                doc = ast.get_docstring(ast.parse(fh.read())) or ""
            out.append((f[:-3], " ".join(doc.split())[:110]))
    return out


def cmd_examples(args):
    import runpy
    import os
    items = list_examples()
    if not args.name:
        width = max(len(n) for n, _ in items)
        for n, doc in items:
            print(f"{n.ljust(width)}  {doc}")
        print(f"\n{len(items)} examples; run one with: chainrule examples NAME")
        return 0
    names = [n for n, _ in items]
    if args.name not in names:
        close = [n for n in names if args.name in n]
        raise ValueError(f"no example {args.name!r}" + (f"; did you mean {', '.join(close)}?" if close else
                                                         "; `chainrule examples` lists them"))
    folder = examples_dir()
    sys.path.insert(0, folder)
    try:
        runpy.run_path(os.path.join(folder, args.name + ".py"), run_name="__main__")
    finally:
        sys.path.remove(folder)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="chainrule", description="Backpropagation that shows its work.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("check", help="gradcheck every registered op (float64, central differences)")
    p.add_argument("ops", nargs="*", help="only these ops (default: all)")
    p.add_argument("--model", help="a Python file defining `model` and `batch = (inputs, targets)` (optionally "
                                   "`loss_fn`): gradcheck the whole model on that batch, in float64, with diagnosis")
    p.set_defaults(func=cmd_check)
    from .cli_train import add_train_parser
    add_train_parser(sub)
    t = sub.add_parser("trace", help="show the chain rule step by step on a small expression",
                       description='Trace a backward pass by hand, e.g. chainrule trace "(x + y) * z" x=-2 y=5 z=-4')
    t.add_argument("expression", nargs="?", help="a Python expression of named scalars")
    t.add_argument("values", nargs="*", help="NAME=VALUE for every variable: a number, or a list for a vector (x=[0.5,-1]), nested for a matrix")
    t.add_argument("--example", choices=["xyz", "neuron"], help="the texts' Example 1 (xyz) or Example 2 (neuron)")
    t.add_argument("--format", default="text", choices=["text", "markdown", "html"])
    t.add_argument("--output", help="write to this file instead of printing")
    t.set_defaults(func=cmd_trace)
    e = sub.add_parser("examples", help="list the reference texts' runnable twins, or run one")
    e.add_argument("name", nargs="?", help="an example to run (see the list)")
    e.set_defaults(func=cmd_examples)
    for sp in sub.choices.values():
        sp.error = _one_line_error(sp)
    parser.error = _one_line_error(parser)
    return parser


def _one_line_error(parser):
    def error(message):
        sys.stderr.write(f"{parser.prog}: error: {message} (see {parser.prog} --help)\n")
        raise SystemExit(2)
    return error


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, ImportError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)   # a KeyError's str() is quoted
        sys.stderr.write(f"chainrule {args.command}: error: {msg}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
