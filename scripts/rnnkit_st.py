"""Writes .safetensors files as rnnkit reads them (shared by the converters).

No dependency on the `safetensors` package: an 8-byte little-endian header
length, the JSON header (with "__metadata__"), padded to 8 bytes, then the
raw little-endian tensor data. Written through a temporary file so an error
never leaves a partial file under the final name.
"""
import json
import os
import struct


def st_bytes(arr):
    """(dtype string, raw little-endian bytes) of a numpy array or torch tensor."""
    import numpy as np

    try:
        import torch
    except ImportError:  # numpy arrays only
        torch = None
    if torch is not None and isinstance(arr, torch.Tensor):
        if arr.dtype == torch.bfloat16:
            raw = arr.contiguous().view(torch.int16).numpy().astype("<i2").tobytes()
            return "BF16", raw
        arr = arr.detach().cpu().numpy()
    arr = np.ascontiguousarray(arr)
    if arr.dtype == np.float32:
        return "F32", arr.astype("<f4").tobytes()
    if arr.dtype == np.float16:
        return "F16", arr.astype("<f2").tobytes()
    raise ValueError("unsupported dtype %s" % arr.dtype)


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, array); metadata: dict str->str."""
    header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs = []
    off = 0
    for name, arr in tensors:
        dt, raw = st_bytes(arr)
        shape = list(arr.shape)
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    tmp = path + ".tmp"  # never leave a partial file under the final name
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(hj)))
            f.write(hj)
            for b in blobs:
                f.write(b)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
