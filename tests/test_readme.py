"""The README's self-contained code blocks (those that import chainrule themselves) run as written: a user copies
them first."""
import pathlib
import re

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if b.startswith("import chainrule")]


def test_the_readme_has_runnable_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)        # the training block saves model.safetensors
    namespace = {}
    exec(compile(block, str(README), "exec"), namespace)
    if "f" in namespace and "x" in namespace and hasattr(namespace["x"], "grad"):   # the tour: (x+y)·z
        assert [t.item() for t in (namespace["x"].grad, namespace["y"].grad, namespace["z"].grad)] == [-4, -4, 3]
    if "model" in namespace:                                                       # the training loop
        import chainrule as cr
        data = namespace["dataset"].tensors
        with cr.no_grad():
            accuracy = ((namespace["model"](data[0]) > 0).float() == data[1]).float().mean().item()
        assert accuracy > 0.95 and (tmp_path / "model.safetensors").exists()
        assert np.isfinite(namespace["loss"].item())


def test_the_readme_counts_the_registry_as_it_is():
    """The README's count of registered ops and samples is the registry's (it went stale once: 306 for 339)."""
    from chainrule.ops.registry import OPS
    found = re.search(r"(\d+) registered differentiable ops with (\d+) samples", README.read_text())
    assert found, "the README should say how many ops are registered"
    assert (int(found[1]), int(found[2])) == (len(OPS), sum(len(op.samples) for op in OPS.values()))
