"""save / load state dicts as safetensors files, never pickle.

Writes go to a temporary file in the same folder, are fsynced, then renamed over the target: a crash mid-write
leaves the old file intact. Optimizer state dicts (nested, with hyperparameters) are flattened into tensors plus
JSON metadata.
"""
import json
import os
import tempfile

import numpy as np

from .tensor import Tensor

_KIND = "chainrule.kind"


class ModelFileError(ValueError):
    """A model file that is missing, truncated, corrupt, or not a chainrule/safetensors file."""


def _flatten(obj):
    tensors, meta = {}, {}
    if "param_groups" in obj and "state" in obj:
        meta[_KIND] = "optimizer"
        meta["param_groups"] = json.dumps(obj["param_groups"])
        scalars = {}
        for i, st in obj["state"].items():
            for k, v in st.items():
                if isinstance(v, (Tensor, np.ndarray)):
                    tensors[f"state.{i}.{k}"] = np.ascontiguousarray(v._data if isinstance(v, Tensor) else v)
                else:
                    scalars[f"{i}.{k}"] = v
        meta["scalars"] = json.dumps(scalars)
        return tensors, meta
    meta[_KIND] = "state_dict"
    for k, v in obj.items():
        if not isinstance(v, (Tensor, np.ndarray)):
            raise TypeError(f"save: value for key {k!r} is a {type(v).__name__}; a state dict holds tensors only "
                            f"(use module.state_dict() or optimizer.state_dict())")
        tensors[k] = np.ascontiguousarray(v._data if isinstance(v, Tensor) else v)
    return tensors, meta


def _unflatten(tensors, meta):
    if meta.get(_KIND) == "optimizer":
        state = {}
        for k, v in tensors.items():
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = Tensor._wrap(v)
        for k, v in json.loads(meta.get("scalars", "{}")).items():
            i, name = k.split(".", 1)
            state.setdefault(int(i), {})[name] = v
        groups = json.loads(meta["param_groups"])
        for g in groups:
            if "betas" in g:
                g["betas"] = tuple(g["betas"])
        return {"state": state, "param_groups": groups}
    return {k: Tensor._wrap(v) for k, v in tensors.items()}


def save(obj, path):
    """Atomically write a state dict (module or optimizer) to `path` in the safetensors format."""
    from safetensors.numpy import save as st_save
    tensors, meta = _flatten(obj)
    blob = st_save(tensors, metadata=meta)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path):
    """Read a file written by save(); raises ModelFileError saying whether it is missing, truncated or foreign."""
    from safetensors.numpy import load as st_load
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelFileError(f"load: {path!r} does not exist")
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ModelFileError(f"load: {path!r} is truncated ({len(data)} bytes; a safetensors file starts with an "
                             f"8-byte header length)")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > len(data) - 8 or header_len > 100_000_000:
        if data[:2] == b"\x80\x04" or data[:1] == b"\x80":
            raise ModelFileError(f"load: {path!r} looks like a pickle file; chainrule never loads pickles. "
                                 f"Convert it with torch/safetensors, then load the .safetensors file")
        raise ModelFileError(f"load: {path!r} is not a safetensors file or is truncated (header says {header_len} "
                             f"bytes, file has {len(data) - 8} after the length)")
    try:
        header = json.loads(data[8:8 + header_len])
    except ValueError:
        raise ModelFileError(f"load: {path!r} has a corrupt header (not JSON); it is not a valid safetensors file") \
            from None
    meta = header.get("__metadata__", {}) or {}
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + header_len + end > len(data):
        raise ModelFileError(f"load: {path!r} is truncated: its header describes {end} bytes of tensor data but "
                             f"only {len(data) - 8 - header_len} are there (was the write interrupted?)")
    try:
        tensors = st_load(data)
    except Exception as exc:
        raise ModelFileError(f"load: {path!r} is corrupt: {exc}") from None
    if _KIND not in meta:
        return {k: Tensor._wrap(v) for k, v in tensors.items()}   # a foreign but valid safetensors file
    return _unflatten(tensors, meta)
