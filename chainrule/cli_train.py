"""`chainrule train`, `evaluate`, `predict`: the main job and its companions."""
import json
import os
import sys
import time

import numpy as np

from . import training as T
from .data import VARIANTS, datasets
from .tensor import Tensor


def add_train_parser(sub):
    p = sub.add_parser("train", help="train an MLP (default: the texts' lab, [2, 16, 16, 1] on moons)",
                       description="Train a multilayer perceptron by backpropagation and write the model, metrics "
                                   "and plots into OUT/NAME.")
    p.add_argument("--model", default="mlp", choices=["mlp", "cnn", "lstm", "transformer"],
                   help="mlp (default), cnn (on digits images), lstm (sequence-sum task), transformer (reverse "
                        "sequences); the last three use their matching built-in data set")
    p.add_argument("--data", default="moons",
                   help="xor, moons, circles, spirals, iris, wine, breast_cancer, digits, or a CSV path (default moons)")
    p.add_argument("--label-column", default="label", help="label column of a CSV file (default 'label')")
    p.add_argument("--hidden", default="16,16", help="hidden layer sizes, comma separated (default 16,16)")
    p.add_argument("--activation", default="relu", choices=list(T.ACTIVATIONS))
    p.add_argument("--loss", default="auto", choices=T.LOSSES, help="auto: bce for 2 classes, else ce")
    p.add_argument("--optimizer", default="adam", choices=T.OPTIMIZERS)
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument("--schedule", default="none", choices=T.SCHEDULES)
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the training data (default 100; with --variant online 1, its one pass over "
                        "the stream)")
    p.add_argument("--variant", default="minibatch", choices=VARIANTS,
                   help="batch: full batch; minibatch; sgd: one sample per update; online: a stream, seen once")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--clip", type=float, default=None, help="clip the gradient norm to this value")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--out", default="runs", help="output folder (default runs)")
    p.add_argument("--name", default=None, help="run name (default: a timestamp)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--diagnose", action="store_true",
                   help="watch gradient flow (vanishing/exploding, dead ReLUs, learning rate) and report findings")
    p.add_argument("--profile", action="store_true",
                   help="time every op's forward and backward during training: profile.txt (per-op table) in the "
                        "run folder and the top ops in metrics.json")
    p.add_argument("--detect-anomaly", action="store_true",
                   help="stop at the first op whose output or gradient is NaN/Inf and explain why")
    p.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="accuracy of a saved run on its test split")
    e.add_argument("run", help="a run folder written by chainrule train")
    e.set_defaults(func=cmd_evaluate)
    q = sub.add_parser("predict", help="predict classes with a saved run")
    q.add_argument("run", help="a run folder written by chainrule train")
    q.add_argument("--input", action="append", default=[], help="one sample, comma separated (repeatable)")
    q.add_argument("--csv", default=None, help="a CSV of samples (numeric columns; a label column is ignored)")
    q.set_defaults(func=cmd_predict)


def _positive(name, value):
    if value is not None and value <= 0:
        raise ValueError(f"--{name} must be positive, got {value}")


def _prepare(cfg):
    X, y = datasets.load(cfg["data"], cfg["seed"], cfg.get("label_column", "label"))
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"data set {cfg['data']!r} has a single class; nothing to learn")
    remap = {int(c): i for i, c in enumerate(classes)}
    y = np.array([remap[int(v)] for v in y])
    Xtr, ytr, Xte, yte = datasets.train_test_split(X, y, cfg["test_fraction"], cfg["seed"])
    Xtr, Xte, mu, sd = datasets.standardize(Xtr, Xte)
    return Xtr, ytr, Xte, yte, mu, sd, len(classes)


class _Progress:
    """A rich progress bar with loss and accuracy, or nothing when rich is missing or --quiet."""

    def __init__(self, epochs, quiet):
        self.bar = None
        if quiet:
            return
        try:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        except ImportError:
            return
        self.bar = Progress(TextColumn("epoch {task.completed}/{task.total}"), BarColumn(),
                            TextColumn("loss {task.fields[loss]:.4f}  acc {task.fields[acc]:.3f}"),
                            TimeElapsedColumn())
        self.task = self.bar.add_task("train", total=epochs, loss=float("nan"), acc=0.0)

    def __enter__(self):
        if self.bar:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.__exit__(*exc)

    def __call__(self, epoch, logs):
        if self.bar:
            self.bar.update(self.task, completed=epoch + 1, loss=logs["loss"], acc=logs["accuracy"])


def _train_other(args):
    """--model cnn|lstm|transformer on the matching built-in data set."""
    from . import manual_seed, nn, save
    manual_seed(args.seed)
    if args.model == "cnn":
        X, y = datasets.sklearn_dataset("digits")
        X = (X / 16.0).reshape(-1, 1, 8, 8)
        n_classes, model, data = 10, T.small_cnn(10), "digits (8×8 images)"
    elif args.model == "lstm":
        X, y = T.sequence_sum_data(seed=args.seed)
        n_classes, model, data = 2, T.SequenceClassifier(1, 32, 2), "sequence-sum sign (length 20)"
    else:
        X, y = T.reverse_data(seed=args.seed)
        n_classes, model, data = 8, T.Reverser(8, X.shape[1]), "reverse integer sequences (length 6)"
    Xtr, ytr, Xte, yte = datasets.train_test_split(X, y, args.test_fraction, args.seed)
    opt = T.make_optimizer(args.optimizer, model.parameters(), args.lr)
    run_dir = os.path.join(args.out, args.name or T.run_name())
    os.makedirs(run_dir, exist_ok=True)
    start = time.perf_counter()
    with _Progress(args.epochs, args.quiet) as progress:
        history = T.fit(model, nn.CrossEntropyLoss(), "ce", opt, Xtr, ytr, n_classes, args.epochs, args.variant,
                        args.batch_size, None, args.clip, callbacks=[progress], seed=args.seed)
    seconds = time.perf_counter() - start
    _report_divergence(history)
    model.eval()
    test_acc = T.accuracy(model, Xte, yte, "ce")
    save(model.state_dict(), os.path.join(run_dir, "model.safetensors"))
    T.write_json(os.path.join(run_dir, "metrics.json"), {"model": args.model, "data": data, "test_accuracy": test_acc,
                                                         "epochs": args.epochs, "seconds": round(seconds, 3),
                                                         "history": history})
    if not args.no_plots:
        try:
            from . import viz
            viz.plot_loss_curve(history, os.path.join(run_dir, "loss_curve.png"), f"{args.model}: {data}")
        except ImportError as exc:
            print(f"(plots skipped: {exc})")
    print(f"{args.model} on {data}: test accuracy {test_acc:.1%}, {_epochs(args.epochs)} in {seconds:.1f} s -> {run_dir}")
    return 0


def _epochs(n):
    return f"{n} epoch" + ("" if n == 1 else "s")


def _resolve_epochs(args):
    """--epochs defaults to 100 passes, except online learning, which sees each sample once: one pass."""
    online = args.variant == "online"
    if args.epochs is None:
        args.epochs = 1 if online else 100
    elif online and args.epochs != 1:
        raise ValueError(f"--variant online sees each sample once (one pass over the stream), so --epochs must be 1 "
                         f"or left out, got {args.epochs}; for several passes of one-sample updates use --variant sgd")


def _report_divergence(history):
    """After fit: for a run whose loss became inf or nan, the advice on stderr, and NumPy's overflow warnings off
    while its non-finite weights are evaluated (cmd_train's errstate restores them when the command ends)."""
    if "diverged" in history:
        print(T.divergence_advice(history["diverged"]), file=sys.stderr)
        np.seterr(over="ignore", invalid="ignore")


def cmd_train(args):
    with np.errstate():   # whatever the run sets (_report_divergence) is undone here, not left to the caller
        return _train(args)


def _train(args):
    from . import manual_seed, save
    _resolve_epochs(args)
    if args.model != "mlp":
        _positive("epochs", args.epochs)
        return _train_other(args)
    for name in ("epochs", "batch_size", "lr"):
        _positive(name.replace("_", "-"), getattr(args, name))
    if not 0 < args.test_fraction < 1:
        raise ValueError(f"--test-fraction must be between 0 and 1, got {args.test_fraction}")
    try:
        hidden = [int(h) for h in args.hidden.split(",") if h.strip()]
    except ValueError:
        raise ValueError(f"--hidden must be comma-separated integers like 16,16, got {args.hidden!r}") from None
    if any(h <= 0 for h in hidden):
        raise ValueError(f"--hidden sizes must be positive, got {args.hidden!r}")
    cfg = {"data": args.data, "label_column": args.label_column, "seed": args.seed,
           "test_fraction": args.test_fraction, "hidden": hidden, "activation": args.activation}
    Xtr, ytr, Xte, yte, mu, sd, n_classes = _prepare(cfg)
    loss_name, loss_fn, n_out = T.loss_for(args.loss, n_classes)
    sizes = [Xtr.shape[1]] + hidden + [n_out]
    manual_seed(args.seed)
    model = T.build_mlp(sizes, args.activation)
    opt = T.make_optimizer(args.optimizer, model.parameters(), args.lr)
    steps = {"batch": 1, "sgd": len(ytr), "online": len(ytr)}.get(args.variant, -(-len(ytr) // args.batch_size))
    sched = T.make_schedule(args.schedule, opt, args.epochs, steps)
    run_dir = os.path.join(args.out, args.name or T.run_name())
    os.makedirs(run_dir, exist_ok=True)
    start = time.perf_counter()
    monitor = None
    if args.diagnose:
        from .diagnose import GradientMonitor
        monitor = GradientMonitor(model)
    import contextlib
    from .autograd import detect_anomaly
    from .autograd.profiler import profile
    profiler = profile() if args.profile else None
    with _Progress(args.epochs, args.quiet) as progress, \
            (detect_anomaly() if args.detect_anomaly else contextlib.nullcontext()), \
            (profiler if profiler is not None else contextlib.nullcontext()):
        history = T.fit(model, loss_fn, loss_name, opt, Xtr, ytr, n_classes, args.epochs, args.variant,
                        args.batch_size, sched, args.clip, callbacks=[progress], seed=args.seed,
                        on_step=monitor)
    seconds = time.perf_counter() - start
    _report_divergence(history)
    test_acc = T.accuracy(model, Xte, yte, loss_name)
    train_acc = T.accuracy(model, Xtr, ytr, loss_name)
    cfg.update({"sizes": sizes, "loss": loss_name, "n_classes": n_classes, "mean": mu.tolist(), "std": sd.tolist()})
    save(model.state_dict(), os.path.join(run_dir, "model.safetensors"))
    T.write_json(os.path.join(run_dir, "config.json"), cfg)
    metrics = {"test_accuracy": test_acc, "train_accuracy": train_acc, "final_loss": history["loss"][-1],
               "epochs": len(history["loss"]), "seconds": round(seconds, 3), "sizes": sizes, "data": args.data,
               "optimizer": args.optimizer, "lr": args.lr, "variant": args.variant, "history": history}
    if monitor is not None:
        report = monitor.report()
        metrics["diagnosis"] = report.as_dict()["findings"]
        report.render()
    if profiler is not None:
        metrics["profile"] = _write_profile(profiler, run_dir, args.quiet)
    T.write_json(os.path.join(run_dir, "metrics.json"), metrics)
    if not args.no_plots:
        try:
            from . import viz
            viz.plot_loss_curve(history, os.path.join(run_dir, "loss_curve.png"), f"{args.data}: {sizes}")
            if monitor is not None:
                viz.plot_gradient_flow(monitor.history, os.path.join(run_dir, "gradient_flow.png"))
                viz.plot_gradient_histograms(monitor.history, os.path.join(run_dir, "gradient_histograms.png"))
            with open(os.path.join(run_dir, "graph.dot"), "w") as f:
                xb = Tensor._wrap(Xte[:4].astype(np.float32))
                f.write(viz.to_dot(model(xb).sum(), model=model))
            viz.plot_graph(model(xb).sum(), os.path.join(run_dir, "graph.png"), model=model,
                           collapse_modules=len(sizes) > 4)
            if Xtr.shape[1] == 2:
                viz.plot_decision_boundary(lambda P: T.predict_classes(model, P, loss_name), Xte, yte,
                                           os.path.join(run_dir, "decision_boundary.png"),
                                           f"{args.data}: test accuracy {test_acc:.1%}")
        except ImportError as exc:
            print(f"(plots skipped: {exc})")
    print(f"{args.data} {sizes}: test accuracy {test_acc:.1%} (train {train_acc:.1%}), final loss "
          f"{history['loss'][-1]:.4f}, {_epochs(len(history['loss']))} in {seconds:.1f} s -> {run_dir}")
    return 0


def _write_profile(profiler, run_dir, quiet):
    """profile.txt with the per-op table (self time first); the ten dearest ops for metrics.json."""
    averages = profiler.key_averages()
    table = averages.table(sort_by="self_cpu_time_total", row_limit=30)
    with open(os.path.join(run_dir, "profile.txt"), "w") as f:
        f.write(table + "\n")
    if not quiet:
        print(averages.table(sort_by="self_cpu_time_total", row_limit=10))
    top = sorted(averages, key=lambda e: e.self_cpu_time_total, reverse=True)[:10]
    return [{"op": e.key, "calls": e.count, "self_ms": round(e.self_cpu_time_total / 1000, 3),
             "total_ms": round(e.cpu_time_total / 1000, 3)} for e in top]


def _load_run(run):
    from . import load
    cfg_path = os.path.join(run, "config.json")
    if not os.path.exists(cfg_path):
        raise ValueError(f"{run!r} is not a run folder (no config.json); pass a folder written by chainrule train")
    with open(cfg_path) as f:
        cfg = json.load(f)
    model = T.build_mlp(cfg["sizes"], cfg["activation"])
    model.load_state_dict(load(os.path.join(run, "model.safetensors")))
    model.eval()
    return cfg, model


def cmd_evaluate(args):
    cfg, model = _load_run(args.run)
    Xtr, ytr, Xte, yte, _, _, _ = _prepare(cfg)
    acc = T.accuracy(model, Xte, yte, cfg["loss"])
    print(f"{cfg['data']} {cfg['sizes']}: test accuracy {acc:.1%} on {len(yte)} samples "
          f"(train {T.accuracy(model, Xtr, ytr, cfg['loss']):.1%})")
    return 0


def cmd_predict(args):
    cfg, model = _load_run(args.run)
    rows = []
    for s in args.input:
        try:
            rows.append([float(v) for v in s.split(",")])
        except ValueError:
            raise ValueError(f"--input {s!r}: expected comma-separated numbers") from None
    if args.csv:
        X, _ = datasets.load_csv(args.csv, cfg.get("label_column", "label")) if _has_label(args.csv, cfg) else \
            (np.loadtxt(args.csv, delimiter=",", skiprows=1, ndmin=2), None)
        rows.extend(X.tolist())
    if not rows:
        raise ValueError("predict: give samples with --input x1,x2,... or --csv FILE")
    X = np.array(rows, np.float64)
    n_in = cfg["sizes"][0]
    if X.shape[1] != n_in:
        raise ValueError(f"predict: the model takes {n_in} features per sample, got {X.shape[1]}")
    X = (X - np.array(cfg["mean"])) / np.array(cfg["std"])
    for row, c in zip(rows, T.predict_classes(model, X, cfg["loss"])):
        print(f"{','.join(f'{v:g}' for v in row)} -> class {int(c)}")
    return 0


def _has_label(path, cfg):
    with open(path) as f:
        return cfg.get("label_column", "label") in f.readline().strip().split(",")
