"""Text 003, Exercises §C4: check_shapes(params, grads) — the text's function run on chainrule's gradients (every
gradient has its parameter's shape), and shown to catch a planted mismatch."""
import chainrule as cr
import chainrule.nn as nn


def check_shapes(params, grads):
    for key in params:
        grad_key = "d" + key
        assert grads[grad_key].shape == params[key].shape, \
            f"Shape mismatch: {grad_key} has shape {grads[grad_key].shape} but {key} has shape {params[key].shape}"
    print("All gradient shapes verified!")


def main():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model(cr.randn(5, 3)).sum().backward()
    params = {n: p for n, p in model.named_parameters()}
    grads = {"d" + n: p.grad for n, p in params.items()}
    check_shapes(params, grads)
    grads["d0.weight"] = grads["d0.weight"].T                     # planted bug: a missing transpose
    try:
        check_shapes(params, grads)
        caught = None
    except AssertionError as exc:
        caught = str(exc)
        print("caught:", caught)
    return {"caught": caught}


if __name__ == "__main__":
    main()
