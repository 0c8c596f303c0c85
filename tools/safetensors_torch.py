"""Writing PyTorch tensors as a safetensors file with the standard library,
for the scripts that make fixtures, the demo model and benchmark models
(Debian has no `safetensors` Python package).

The layout matches the reference library's: metadata first in a compact
JSON header padded with spaces to a multiple of 8 bytes, then the tensors'
little-endian bytes in sorted-name order with no holes.
"""
import json
import os
import struct

import torch


def tensor_bytes(t, dtype):
    """Little-endian bytes of tensor t as dtype ("F32", "F16" or "BF16")."""
    t = t.detach().contiguous()
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    if dtype == "F16":
        return t.to(torch.float16).numpy().astype("<f2").tobytes()
    if dtype == "BF16":
        # bfloat16 is the upper half of a float32; let torch do the rounding
        # and take its bits unchanged.
        bits = t.to(torch.bfloat16).view(torch.int16)
        return bits.numpy().astype("<i2").tobytes()
    raise ValueError("unsupported dtype " + dtype)


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Write {name: tensor} to path, every tensor stored as dtype; the file
    appears complete or not at all (written aside, then renamed)."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        data = tensor_bytes(t, dtype)
        header[name] = {
            "dtype": dtype,
            "shape": [int(d) for d in t.shape],
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
    os.replace(tmp, path)


def read_safetensors(path):
    """Read a safetensors file of F32/F16/BF16/F64 tensors: returns
    ({name: tensor}, metadata dict)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
              "F64": torch.float64}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        data = bytearray(blob[base + begin:base + end])
        t = torch.frombuffer(data, dtype=dtypes[info["dtype"]]) if data else \
            torch.empty(0, dtype=dtypes[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata
