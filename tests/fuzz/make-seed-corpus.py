#!/usr/bin/env python3
"""Writes the seed corpus for fuzz-safetensors.

Each seed is a small safetensors file, valid or deliberately broken in one
way, so that the fuzzer starts from inputs that reach every check of the
reader instead of having to discover the format's framing by chance.

Usage: make-seed-corpus.py [OUTPUT_DIR]
(default: corpus/safetensors next to this script). Uses only the standard
library.
"""

import json
import os
import struct
import sys


def frame(header, buffer=b"", pad_to=1):
    """Prefixes the header (a str) with its length and appends the buffer,
    padding the header with spaces to a multiple of pad_to bytes."""
    raw = header.encode("utf-8")
    raw += b" " * (-len(raw) % pad_to)
    return struct.pack("<Q", len(raw)) + raw + buffer


def tensor_file(tensors, metadata=None, pad_to=8):
    """tensors: list of (name, dtype, shape, bytes). Lays the tensors out
    back to back in the given order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    buffer = b""
    for name, dtype, shape, data in tensors:
        header[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [len(buffer), len(buffer) + len(data)],
        }
        buffer += data
    return frame(json.dumps(header, separators=(",", ":")), buffer, pad_to)


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def f64(*values):
    return struct.pack("<%dd" % len(values), *values)


def u16(*values):
    return struct.pack("<%dH" % len(values), *values)


def one(dtype="F32", shape=(1,), offsets=(0, 4), name="w"):
    """A header with a single entry, written by hand."""
    return json.dumps({name: {"dtype": dtype, "shape": list(shape),
                              "data_offsets": list(offsets)}})


SEEDS = {
    # Valid files.
    "valid-f32": tensor_file([("w", "F32", [2, 2], f32(1.5, -2, 0.25, 3e38)),
                              ("b", "F32", [2], f32(0, -0.0))]),
    "valid-f16": tensor_file([("h", "F16", [10],
                               u16(0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400,
                                   0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8000))]),
    "valid-bf16": tensor_file([("x", "BF16", [2, 3],
                                u16(0x3f80, 0xc040, 0x4049, 0x0001, 0x7f80,
                                    0x7fc1))]),
    "valid-f64": tensor_file([("d", "F64", [3],
                               f64(1.0, -0.1, float("inf")))]),
    "valid-mixed-unaligned": tensor_file([("a", "F16", [1], u16(0x3c00)),
                                          ("b", "F32", [1], f32(2.0)),
                                          ("c", "F64", [1], f64(3.0)),
                                          ("d", "BF16", [1], u16(0x4080))],
                                         pad_to=1),
    "valid-scalar": tensor_file([("s", "F32", [], f32(42.5))]),
    "valid-zero-sized": tensor_file([("e", "F32", [0], b""),
                                     ("w", "F32", [1], f32(7)),
                                     ("z", "F16", [3, 0], b"")]),
    "valid-metadata": tensor_file([("w", "F32", [1], f32(1))],
                                  metadata={"format": "pt", "b": "x y"}),
    "valid-empty": frame("{}"),
    "valid-escaped-name": frame('{"a\\u00e4\\ud83d\\ude00":{"dtype":"F32",'
                                '"shape":[1],"data_offsets":[0,4]}}',
                                f32(1)),
    "valid-max-dims": tensor_file([("w", "F32", [1, 1, 2, 1, 1, 1, 1, 3],
                                    f32(1, 2, 3, 4, 5, 6))]),
    # Broken framing.
    "bad-short": b"\x08\x00\x00",
    "bad-header-zero": struct.pack("<Q", 0) + b"{}",
    "bad-header-past-end": struct.pack("<Q", 12345) + b"{}",
    "bad-header-huge": struct.pack("<Q", 2**64 - 1) + b"{}",
    "bad-utf8": struct.pack("<Q", 7) + b'{"\xff":1}',
    # Broken JSON, or JSON only by a lenient reading.
    "bad-json-truncated": frame('{"w":{"dtype":"F32"'),
    "bad-json-comment": frame('{/* c */}'),
    "bad-json-single-quotes": frame("{'w':1}"),
    "bad-json-trailing": frame("{} {}"),
    "bad-json-hex": frame(one(offsets=(0, 4)).replace("4]", "0x4]"),
                          f32(1)),
    "bad-json-surrogate": frame('{"\\ud800":1}'),
    "bad-json-nul-escape": frame('{"a\\u0000b":1}'),
    "bad-json-deep": frame('{"a":' + "[" * 80 + "]" * 80 + "}"),
    "bad-json-big-int": frame(one(offsets=(0, 18446744073709551620)),
                              f32(1)),
    "bad-not-object": frame("[1,2]"),
    # Broken entries.
    "bad-entry-not-object": frame('{"w":3}'),
    "bad-empty-name": frame(one(name=""), f32(1)),
    "bad-dtype-unknown": frame(one(dtype="F33"), f32(1)),
    "bad-dtype-i64": frame(one(dtype="I64", offsets=(0, 8)), f32(1, 2)),
    "bad-shape-negative": frame(one(shape=(-1,)), f32(1)),
    "bad-shape-double": frame(one(shape=(2.5,)), f32(1)),
    "bad-shape-dims": frame(one(shape=(1,) * 9), f32(1)),
    "bad-shape-overflow": frame(one(shape=(2**32, 2**32)), f32(1)),
    "bad-offsets-reversed": frame(one(offsets=(4, 0)), f32(1)),
    "bad-offsets-past-end": frame(one(offsets=(0, 8), shape=(2,)), f32(1)),
    "bad-size-mismatch": frame(one(shape=(2,)), f32(1)),
    "bad-overlap": frame(json.dumps({
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}),
        f32(1, 2, 3)),
    "bad-hole": frame(json.dumps({
        "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}),
        f32(1, 2, 3)),
    "bad-trailing": frame(one(), f32(1, 2)),
    "bad-duplicate": frame('{"w":{"dtype":"F32","shape":[1],'
                           '"data_offsets":[0,4]},'
                           '"w":{"dtype":"F32","shape":[1],'
                           '"data_offsets":[4,8]}}', f32(1, 2)),
    "bad-metadata-value": frame('{"__metadata__":{"epoch":3}}'),
    "bad-metadata-array": frame('{"__metadata__":["a"]}'),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "corpus", "safetensors")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name + ".safetensors"), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
