"""save / load state dicts as safetensors files, never pickle.

Writes go to a temporary file in the same folder, are fsynced, then renamed over the target: a crash mid-write
leaves the old file intact. A flat state dict is stored as plain safetensors; nested dicts (an optimizer's state,
a training checkpoint with the epoch and both state dicts) keep their tensors as named safetensors entries and
their structure and plain values in the file's JSON metadata.
"""
import json
import os
import tempfile

import numpy as np

from . import devices
from .tensor import Tensor

_KIND = "chainrule.kind"


class ModelFileError(ValueError):
    """A model file that is missing, truncated, corrupt, or not a chainrule/safetensors file."""


def _array(v):
    a = v._data if isinstance(v, Tensor) else v
    return np.require(a, requirements="C")   # keeps a 0-d tensor 0-d (ascontiguousarray makes it 1-d)


def _flatten(obj):
    """(tensors by name, string metadata). A flat {name: tensor} state dict is stored as is, readable by any
    safetensors tool; anything else (an optimizer's state dict, a checkpoint {"model": ..., "epoch": 3}) is a tree
    whose tensors are stored under their path ("model/fc.weight") and whose structure and plain values (numbers,
    strings, lists) go to JSON metadata."""
    if not isinstance(obj, dict):
        hint = (" chainrule saves state dicts, never pickled objects: cr.save(model.state_dict(), path), then "
                "model.load_state_dict(cr.load(path))") if hasattr(obj, "state_dict") else ""
        raise TypeError(f"save: expected a dict of tensors (a state dict or a checkpoint dict), got a "
                        f"{type(obj).__name__}.{hint}")
    if obj and all(isinstance(k, str) and isinstance(v, (Tensor, np.ndarray)) for k, v in obj.items()):
        return {k: _array(v) for k, v in obj.items()}, {_KIND: "state_dict"}
    tensors = {}

    def encode(v, path):
        if isinstance(v, (Tensor, np.ndarray)):
            name = "/".join(path) or "tensor"
            while name in tensors:
                name += "'"
            tensors[name] = _array(v)
            return {"__tensor__": name}
        if isinstance(v, dict):
            if any(not isinstance(k, (str, int)) for k in v):
                raise TypeError(f"save: dict keys at {'/'.join(path) or 'the top'} must be str or int, got "
                                f"{[type(k).__name__ for k in v]}")
            return {"__dict__": [[k, encode(x, path + [str(k)])] for k, x in v.items()]}
        if isinstance(v, (list, tuple)):
            items = [encode(x, path + [str(i)]) for i, x in enumerate(v)]
            return {"__tuple__": items} if isinstance(v, tuple) else items
        if isinstance(v, np.generic):
            return v.item()
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if hasattr(v, "state_dict"):
            raise TypeError(f"save: {'/'.join(path)} is a {type(v).__name__}; save its .state_dict() instead (chainrule "
                            f"never pickles objects)")
        raise TypeError(f"save: {'/'.join(path)} is a {type(v).__name__}; a saved dict holds tensors, numbers, "
                        f"strings, lists and dicts only")
    tree = encode(obj, [])
    return tensors, {_KIND: "tree", "tree": json.dumps(tree)}


def _decode(node, tensors):
    if isinstance(node, list):
        return [_decode(x, tensors) for x in node]
    if isinstance(node, dict):
        if "__tensor__" in node:
            return Tensor._wrap(tensors[node["__tensor__"]])
        if "__tuple__" in node:
            return tuple(_decode(x, tensors) for x in node["__tuple__"])
        return {k: _decode(x, tensors) for k, x in node["__dict__"]}
    return node


def _unflatten(tensors, meta):
    if meta.get(_KIND) == "tree":
        return _decode(json.loads(meta["tree"]), tensors)
    if meta.get(_KIND) == "optimizer":   # files written before the tree format (chainrule 0.1, sessions 1-3)
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


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Atomically write a state dict (module or optimizer), or a dict of them with plain values (a training
    checkpoint), to the path `f` in the safetensors format; `f` may also be a writable binary file object
    (io.BytesIO). torch's pickle arguments are accepted and unused: chainrule never pickles."""
    from safetensors.numpy import save as st_save
    tensors, meta = _flatten(obj)
    blob = st_save(tensors, metadata=meta)
    if hasattr(f, "write"):
        f.write(blob)
        return
    path = os.fspath(f)
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


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read a file written by save() (a path or a readable binary file object); raises ModelFileError saying
    whether it is missing, truncated or foreign. torch's weights_only/mmap/pickle arguments are accepted (a
    safetensors file holds only weights, so every load is weights-only); map_location may name the CPU only."""
    from safetensors.numpy import load as st_load
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        devices.check_cpu(map_location, "load(map_location=...)")
    if hasattr(f, "read"):
        data, path = f.read(), getattr(f, "name", "<file object>")
    else:
        path = os.fspath(f)
        if not os.path.exists(path):
            raise ModelFileError(f"load: {path!r} does not exist")
        with open(path, "rb") as fh:
            data = fh.read()
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
