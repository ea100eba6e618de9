"""Why did a parameter get no gradient? missing_grads(model) answers for every such parameter after backward."""


def _owner_map(model):
    owners = {}
    for mname, m in model.named_modules():
        for pname, p in m._parameters.items():
            if p is not None:
                owners.setdefault(id(p), (mname, m))
    return owners


def missing_grads(model):
    """[(name, reason)] for each parameter whose .grad is None after a backward pass.

    Reasons: integer dtype; requires_grad off; its module never ran in forward (not on the path to the loss);
    its module ran under no_grad(); its module's output never reached the loss (detached with .detach()/.data, or
    not used by the loss); or the parameter itself was detached inside its module's forward."""
    owners = _owner_map(model)
    out = []
    for name, p in model.named_parameters():
        if p.grad is not None:
            continue
        mname, m = owners.get(id(p), ("", model))
        where = f"module {mname!r}" if mname else "the model"
        if p.dtype.kind != "f":
            reason = f"integer dtype ({p.dtype}): only floating-point tensors get gradients"
        elif not p.requires_grad:
            reason = "requires_grad is off (frozen); call .requires_grad_(True) to train it"
        else:
            call = m.__dict__.get("_last_call")
            if call is None:
                reason = f"not on the path to the loss: {where} never ran in the forward pass"
            elif not call[0]:
                reason = f"computed under no_grad(): {where} ran with gradient recording off"
            else:
                node = call[1]() if call[1] is not None else None
                if call[1] is None:
                    reason = (f"detached inside {where}: its output did not require grad (a .detach(), .data or "
                              f"numpy round trip in forward)")
                elif node is not None and node.inputs is None:
                    reason = (f"detached inside {where}: backward reached the module's output but not this "
                              f"parameter (was it used through .detach() or .data?)")
                else:
                    reason = (f"not on the path to the loss: the output of {where} never reached the loss (it "
                              f"was detached after the module, or not used)")
        out.append((name, reason))
    return out


def format_missing(model):
    rows = missing_grads(model)
    if not rows:
        return "every parameter received a gradient"
    return "\n".join(f"{n}: {r}" for n, r in rows)
