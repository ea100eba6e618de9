"""The engine imports only NumPy: importing chainrule (and running autograd) loads no plotting, progress,
model-file or dataset library."""
import subprocess
import sys


def test_import_chainrule_loads_only_numpy():
    code = ("import sys, chainrule as cr\n"
            "x = cr.randn(3, requires_grad=True); (x * x).sum().backward()\n"
            "bad = [m for m in ('matplotlib', 'rich', 'safetensors', 'sklearn', 'torch', 'scipy') if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import chainrule pulled in {out}"
