#!/usr/bin/python3
"""Golden safetensors files for kiln's checkpoint package, made with PyTorch.

    /usr/bin/python3 make.py              # golden.safetensors, golden_f64.safetensors, golden.json
    /usr/bin/python3 make.py verify FILE  # checks a file kiln wrote (kiln.safetensors)

(Debian's python3 with python3-torch and python3-numpy.)

Debian bookworm has no python3-safetensors and PyPI is out of reach here, so the
files are written by hand following the format specification and the reference
serializer (huggingface/safetensors, safetensors/src/tensor.rs `prepare`):

  * 8-byte little-endian header length N, then N bytes of UTF-8 JSON, then data;
  * tensors laid out by descending dtype rank (the reference Dtype enum, which is
    ordered by alignment), then by name; offsets relative to the data buffer;
  * compact JSON (no spaces), "__metadata__" first, non-ASCII left unescaped;
  * header padded with spaces to a multiple of 8 bytes.

The tensor bytes come from torch tensors, so F16/BF16 rounding and the F64->F32
narrowing in golden.json are PyTorch's own. `verify` reads a kiln-written file
with a strict reader that applies the reference implementation's checks,
loads every tensor through torch/numpy, compares the values with what kiln's
test wrote, and re-serializes with the writer below to check that kiln's bytes
are exactly the reference layout. Tested with python3-torch 1.13.1 (Debian).
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

# Rank in the reference Dtype enum (ordered by alignment) and element size.
DTYPES = {
    "BOOL": (0, 1), "U8": (4, 1), "I8": (5, 1), "F8_E5M2": (6, 1), "F8_E4M3": (7, 1),
    "F8_E8M0": (8, 1), "I16": (9, 2), "U16": (10, 2), "F16": (11, 2), "BF16": (12, 2),
    "I32": (13, 4), "U32": (14, 4), "F32": (15, 4), "F64": (17, 8), "I64": (18, 8),
    "U64": (19, 8),
}
TORCH_DTYPES = {
    torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16",
    torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32",
    torch.float32: "F32", torch.float64: "F64", torch.int64: "I64",
}
NUMPY_DTYPES = {
    "BOOL": "u1", "U8": "u1", "I8": "i1", "I16": "<i2", "U16": "<u2", "I32": "<i4",
    "U32": "<u4", "I64": "<i8", "U64": "<u8", "F16": "<f2", "F32": "<f4", "F64": "<f8",
}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16
    return t.numpy().tobytes()


def serialize(entries, metadata):
    """entries: {name: (dtype, shape, raw bytes)}. Returns the file's bytes."""
    order = sorted(entries, key=lambda n: (-DTYPES[entries[n][0]][0], n))
    header, data, off = {}, b"", 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name in order:
        dtype, shape, raw = entries[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32_bits(t):
    return [int(x) for x in t.float().flatten().view(torch.int32).numpy().astype(np.uint32)]


def u16_bits(t):
    return [int(x) for x in t.flatten().view(torch.int16).numpy().astype(np.uint16)]


def make():
    torch.manual_seed(7)
    src = torch.tensor([
        0.1, 1 / 3, -2.5, 65504.0, 65519.0, 65520.0, 1e10, 1e-7, 5.9604645e-8,
        2.9802322e-8, 3e-8, 6.1035156e-5, 1.00048828125, 1.00146484375, 1.0 + 2 ** -8,
        1.0 + 3 * 2 ** -9, 3.3895314e38, 3.4028235e38, -0.0, float("inf"), float("-inf"),
        float("nan"), 1e-40, -1e-45,
    ], dtype=torch.float32)
    src = torch.cat([src, torch.randn(40)])
    tensors = {
        "model.fc.weight": torch.tensor([[1.0, -0.0, math.pi], [1e-40, 3.4028235e38, -2.5]]),
        "model.fc.bias": torch.tensor([float("inf"), float("-inf"), float("nan")]),
        "model.conv.weight": torch.randn(2, 1, 3, 3),
        "half": src.half(),
        "bhalf": src.bfloat16(),
        "bn.num_batches_tracked": torch.tensor(1234567890123, dtype=torch.int64),
        "ints64": torch.tensor([-2 ** 63, 2 ** 63 - 1, -1, 0], dtype=torch.int64),
        "ints32": torch.tensor([-2 ** 31, 2 ** 31 - 1, 7], dtype=torch.int32),
        "ints16": torch.tensor([-2 ** 15, 2 ** 15 - 1], dtype=torch.int16),
        "ints8": torch.tensor([-128, 127], dtype=torch.int8),
        "bytes": torch.tensor([0, 255, 9], dtype=torch.uint8),
        "mask": torch.tensor([[True, False], [False, True]]),
        "empty": torch.zeros(0, 3),
    }
    metadata = {"format": "pt", "note": 'kiln golden "quoted"\n\ttab ünïcödé \x01'}
    entries = {n: (TORCH_DTYPES[t.dtype], t.shape, tensor_bytes(t)) for n, t in tensors.items()}

    expect = {"metadata": metadata, "tensors": {}}
    for name, t in tensors.items():
        e = {"dtype": TORCH_DTYPES[t.dtype], "shape": list(t.shape)}
        if t.dtype.is_floating_point:
            e["f32_bits"] = f32_bits(t)  # what kiln must read: PyTorch's .float()
        else:
            e["ints"] = [int(x) for x in t.flatten().tolist()]
        if t.dtype in (torch.float16, torch.bfloat16):
            e["src_f32_bits"] = f32_bits(src)  # what kiln must round ...
            e["bits"] = u16_bits(t)  # ... to these PyTorch bits
        expect["tensors"][name] = e

    f64 = torch.tensor([1 / 3, 1e300, -1e-50, 2.0 ** -149, 0.1, -7.25, float("nan")], dtype=torch.float64)
    expect["f64"] = {"dtype": "F64", "shape": [7], "f32_bits": f32_bits(f64)}

    with open(os.path.join(HERE, "golden.safetensors"), "wb") as f:
        f.write(serialize(entries, metadata))
    with open(os.path.join(HERE, "golden_f64.safetensors"), "wb") as f:
        f.write(serialize({"f64": ("F64", [7], tensor_bytes(f64))}, {}))
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(expect, f, indent=1)
        f.write("\n")
    print("wrote golden.safetensors, golden_f64.safetensors, golden.json")


def strict_read(raw):
    """Parses a safetensors file with the reference implementation's checks."""
    assert len(raw) >= 8, "shorter than 8 bytes"
    (n,) = struct.unpack("<Q", raw[:8])
    assert n <= 100_000_000 and 8 + n <= len(raw), "bad header length"
    text = raw[8 : 8 + n].decode("utf-8")
    assert text.startswith("{"), "header must start with {"
    assert n % 8 == 0, "kiln pads the header to 8 bytes"

    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
        return dict(pairs)

    header = json.loads(text, object_pairs_hook=no_dups)
    metadata = header.pop("__metadata__", None)
    assert metadata is None or all(isinstance(v, str) for v in metadata.values())
    data = raw[8 + n :]
    infos = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    pos, out = 0, {}
    for name, info in infos:
        begin, end = info["data_offsets"]
        dtype, shape = info["dtype"], info["shape"]
        assert begin == pos and end >= begin, f"{name}: offsets {begin},{end} at {pos}"
        assert begin % DTYPES[dtype][1] == 0, f"{name}: misaligned"
        assert math.prod(shape) * DTYPES[dtype][1] == end - begin, f"{name}: size"
        pos = end
        if dtype == "BF16":
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.bfloat16) if end > begin \
                else torch.zeros(0, dtype=torch.bfloat16)
        else:
            arr = np.frombuffer(data[begin:end], dtype=NUMPY_DTYPES[dtype]).copy()
            t = arr if dtype in ("U16", "U32", "U64") else torch.from_numpy(arr)  # torch 1.13 lacks them
            if dtype == "BOOL":
                assert set(arr.tolist()) <= {0, 1}
                t = t.bool()
        out[name] = (dtype, shape, t.reshape(shape))
    assert pos == len(data), "data buffer not fully covered"
    return out, metadata


def verify(path):
    raw = open(path, "rb").read()
    tensors, metadata = strict_read(raw)
    for name, (dtype, shape, t) in sorted(tensors.items()):
        print(f"  {name:24s} {dtype:5s} {str(shape):10s} {t.flatten()[:6].tolist()}")
    print("  metadata:", metadata)

    # The values kiln's TestKilnFile writes (see encode_test.go, kilnFile).
    base = torch.tensor([(i - 2.5) * 0.3 for i in range(6)], dtype=torch.float32).reshape(2, 3)
    ints = [i * 1000 - 2500 for i in range(6)]
    want = {
        "w.f32": base, "w.f64": base.double(), "w.f16": base.half(), "w.bf16": base.bfloat16(),
        "n.i64": torch.tensor(ints, dtype=torch.int64).reshape(2, 3),
        "n.i32": torch.tensor(ints, dtype=torch.int32).reshape(2, 3),
        "n.i16": torch.tensor(ints, dtype=torch.int16).reshape(2, 3),
        "n.i8": torch.tensor([i * 40 - 100 for i in range(6)], dtype=torch.int8).reshape(2, 3),
        "n.u8": torch.tensor([i * 50 for i in range(6)], dtype=torch.uint8).reshape(2, 3),
        "n.bool": torch.tensor([i % 2 == 1 for i in range(6)]).reshape(2, 3),
        "bn.num_batches_tracked": torch.tensor(42, dtype=torch.int64),
        "empty": torch.zeros(0, 4),
    }
    unsigned = {
        "n.u16": np.array([0, 1, 2, 3, 4, 65535], dtype=np.uint16).reshape(2, 3),
        "n.u32": np.array([0, 1, 2, 3, 4, 2 ** 32 - 1], dtype=np.uint32).reshape(2, 3),
        "n.u64": np.array([0, 1, 2, 3, 2 ** 63, 2 ** 64 - 1], dtype=np.uint64).reshape(2, 3),
    }
    assert set(tensors) == set(want) | set(unsigned), sorted(tensors)
    for name, w in want.items():
        dtype, _, t = tensors[name]
        assert dtype == TORCH_DTYPES[w.dtype] and t.dtype == w.dtype, (name, dtype, t.dtype)
        assert t.shape == w.shape, (name, t.shape, w.shape)
        bits = lambda x: x.view(torch.int16) if x.dtype in (torch.float16, torch.bfloat16) else x
        assert torch.equal(bits(t), bits(w)), (name, t, w)  # bit-exact, incl. PyTorch rounding
    for name, w in unsigned.items():
        assert np.array_equal(tensors[name][2], w), (name, tensors[name][2], w)
    assert metadata == {"format": "pt", "framework": "kiln", "step": "100"}, metadata

    # kiln's bytes must be exactly what the reference serializer writes.
    entries = {n: (d, s, tensor_bytes(t) if isinstance(t, torch.Tensor) else t.tobytes())
               for n, (d, s, t) in tensors.items()}
    assert serialize(entries, metadata) == raw, "layout differs from the reference serializer"
    print(f"OK: {path}: {len(tensors)} tensors match, byte-identical to the reference layout")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        verify(sys.argv[2])
    elif len(sys.argv) == 1:
        make()
    else:
        sys.exit(__doc__)
