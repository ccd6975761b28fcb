#!/usr/bin/python3
"""PyTorch-trained weights for kiln's interop tests (internal/interop), and the
check that PyTorch reads kiln's checkpoints.

    /usr/bin/python3 make.py              # writes the files below
    /usr/bin/python3 make.py verify FILE  # loads a kiln-written checkpoint into PyTorch

(Debian's python3 with python3-torch 1.13 and python3-numpy.)

make writes, into this directory:

  seedcnn.safetensors       the seed CNN (3x32x32 images, 10 classes) after 50 Adam steps
                            in PyTorch: its state_dict, F32, as safetensors.torch.save_file
                            writes it
  seedcnn_f16.safetensors   the same weights converted by PyTorch's .half()
  seedcnn_bf16.safetensors  the same weights converted by PyTorch's .bfloat16()
  resnet8.safetensors       ResNet-8 (3x20x20 images, 10 classes) after 50 Adam steps in
                            train mode, so its BatchNorm running statistics are trained and
                            num_batches_tracked (I64, a scalar) is 50
  logits.safetensors        "<model>.x", a batch of 8 inputs per model, and
                            "<model>.logits", PyTorch's eval-mode logits for it; for the
                            F16 and BF16 files the logits come from the rounded weights,
                            converted back to float32

verify FILE reads a checkpoint kiln wrote (kiln_resnet8.safetensors) with a strict reader
that applies the reference implementation's checks, loads it into the PyTorch module named
by its "model" metadata with load_state_dict(strict=True), runs the batch "x" of the
companion FILE-minus-.safetensors + ".io.safetensors" in eval mode and compares the logits
with kiln's ("logits" there). It also re-serializes the tensors with the writer below to
check that kiln's bytes are exactly the reference layout.

Debian bookworm has no python3-safetensors and PyPI is out of reach, so files are written
by hand following the format specification and the reference serializer
(huggingface/safetensors, safetensors/src/tensor.rs): 8-byte little-endian header length,
compact JSON with "__metadata__" first, tensors laid out by descending dtype alignment and
then name, header padded with spaces to a multiple of 8 (as checkpoint/testdata/make.py).

The modules are copies: CNN from shared/bench/seed_pytorch.py (the seed program, which
cannot be imported because it parses arguments at import), BasicBlock and ResNet from
models/testdata/make.py, the modules that kiln's models package mirrors name for name.
Everything runs on one thread, so reruns give identical bytes.
"""

import copy
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)

STEPS = 50  # Adam steps of PyTorch training before the weights are saved
BATCH = 8  # inputs whose logits are compared


class CNN(nn.Module):
    """The seed CNN, verbatim from shared/bench/seed_pytorch.py."""

    def __init__(self, in_ch=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 32, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.fc1 = nn.Linear(64 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, classes)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 64 * 5 * 5)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


class BasicBlock(nn.Module):
    """Verbatim from models/testdata/make.py."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:  # option B: 1x1 projection + BN
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR ResNet of depth 6n+2, verbatim from models/testdata/make.py."""

    def __init__(self, depth, c, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(c, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for i, width in enumerate([16, 32, 64]):
            blocks = []
            for j in range(n):
                blocks.append(BasicBlock(cin, width, 2 if i > 0 and j == 0 else 1))
                cin = width
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*blocks))
        self.fc = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def build(meta):
    """The PyTorch module that a checkpoint's metadata names."""
    c, h, w, k = (int(meta[key]) for key in ("in_channels", "height", "width", "classes"))
    if meta["model"] == "seed-cnn":
        assert (c, h, w) == (c, 32, 32), "the seed CNN's view(-1, 64*5*5) needs 32x32 images"
        return CNN(c, k)
    if meta["model"].startswith("resnet"):
        return ResNet(int(meta["model"][len("resnet"):]), c, k)
    raise SystemExit("unknown model %r" % meta["model"])


# ---- safetensors, by hand ----

# Rank in the reference Dtype enum (ordered by alignment) and element size.
DTYPES = {
    "BOOL": (0, 1), "U8": (4, 1), "I8": (5, 1), "I16": (9, 2), "U16": (10, 2), "F16": (11, 2),
    "BF16": (12, 2), "I32": (13, 4), "U32": (14, 4), "F32": (15, 4), "F64": (17, 8),
    "I64": (18, 8), "U64": (19, 8),
}
TORCH_DTYPES = {
    torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16",
    torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32",
    torch.float32: "F32", torch.float64: "F64", torch.int64: "I64",
}
FROM_NAME = {v: k for k, v in TORCH_DTYPES.items()}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16
    return t.numpy().tobytes()


def serialize(tensors, metadata):
    """tensors: {name: torch tensor}. Returns the file's bytes, laid out as
    safetensors.torch.save_file lays them out."""
    entries = {n: (TORCH_DTYPES[t.dtype], list(t.shape), tensor_bytes(t)) for n, t in tensors.items()}
    order = sorted(entries, key=lambda n: (-DTYPES[entries[n][0]][0], n))
    header, data, off = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name in order:
        dtype, shape, raw = entries[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        data.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(data)


def save(name, tensors, metadata):
    raw = serialize(tensors, metadata)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(raw)
    print("wrote %-26s %8d bytes, %d tensors" % (name, len(raw), len(tensors)))


def strict_read(path):
    """Parses a safetensors file with the reference implementation's checks;
    returns ({name: torch tensor of the file's dtype}, metadata, raw bytes)."""
    raw = open(path, "rb").read()
    assert len(raw) >= 8, "shorter than 8 bytes"
    (n,) = struct.unpack("<Q", raw[:8])
    assert n <= 100_000_000 and 8 + n <= len(raw), "bad header length"
    text = raw[8:8 + n].decode("utf-8")
    assert text.startswith("{"), "header must start with {"

    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), "duplicate keys %s" % keys
        return dict(pairs)

    header = json.loads(text, object_pairs_hook=no_dups)
    metadata = header.pop("__metadata__", None)
    assert metadata is None or all(isinstance(v, str) for v in metadata.values())
    data = raw[8 + n:]
    pos, out = 0, {}
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        dtype, shape = info["dtype"], info["shape"]
        assert begin == pos and end >= begin, "%s: offsets %d,%d at %d" % (name, begin, end, pos)
        assert begin % DTYPES[dtype][1] == 0, "%s: misaligned" % name
        assert math.prod(shape) * DTYPES[dtype][1] == end - begin, "%s: size" % name
        pos = end
        buf = bytearray(data[begin:end])
        t = torch.frombuffer(buf, dtype=FROM_NAME[dtype]) if buf else torch.zeros(0, dtype=FROM_NAME[dtype])
        out[name] = t.reshape(shape)
    assert pos == len(data), "data buffer not fully covered"
    return out, metadata, raw


# ---- make ----

def train(model, shape, seed):
    """STEPS Adam steps (lr 1e-3, cross entropy) on 4 fixed batches of 32
    random images in [0, 1) with random labels, cycled: enough to move every
    weight well away from its initialisation."""
    g = torch.Generator().manual_seed(seed)
    batches = [(torch.rand(32, *shape, generator=g), torch.randint(0, 10, (32,), generator=g)) for _ in range(4)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    losses = []
    for step in range(STEPS):
        x, y = batches[step % len(batches)]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print("  %s: loss %.4f -> %.4f over %d Adam steps" % (type(model).__name__, losses[0], losses[-1], STEPS))
    model.eval()
    return torch.rand(BATCH, *shape, generator=g)


def logits(model, state, x):
    """Eval-mode logits of model with the given state_dict, in float32."""
    m = copy.deepcopy(model)
    m.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True)
    m.eval()
    with torch.no_grad():
        return m(x).contiguous()


def make():
    golden = {}
    meta = {"format": "pt", "model": "seed-cnn", "in_channels": "3", "height": "32", "width": "32", "classes": "10",
            "trained": "%d Adam steps in PyTorch %s" % (STEPS, torch.__version__)}
    torch.manual_seed(0)  # as the seed program
    cnn = CNN(3, 10)
    x = train(cnn, (3, 32, 32), 1)
    sd = {k: v.detach().clone() for k, v in cnn.state_dict().items()}
    golden["seedcnn.x"] = x
    golden["seedcnn.logits"] = logits(cnn, sd, x)
    save("seedcnn.safetensors", sd, meta)
    for suffix, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        low = {k: v.to(dtype) for k, v in sd.items()}
        golden["seedcnn_%s.logits" % suffix] = logits(cnn, low, x)
        save("seedcnn_%s.safetensors" % suffix, low, meta)

    meta = {"format": "pt", "model": "resnet8", "in_channels": "3", "height": "20", "width": "20", "classes": "10",
            "trained": "%d Adam steps in PyTorch %s" % (STEPS, torch.__version__)}
    torch.manual_seed(8)
    net = ResNet(8, 3, 10)
    x = train(net, (3, 20, 20), 2)
    sd = {k: v.detach().clone() for k, v in net.state_dict().items()}
    assert sd["bn1.num_batches_tracked"].dtype == torch.int64 and sd["bn1.num_batches_tracked"].item() == STEPS
    golden["resnet8.x"] = x
    golden["resnet8.logits"] = logits(net, sd, x)
    save("resnet8.safetensors", sd, meta)

    save("logits.safetensors", golden, {"torch": torch.__version__})


# ---- verify ----

def verify(path):
    tensors, meta, raw = strict_read(path)
    print("read %s: %d tensors, %d bytes, metadata %s" % (os.path.basename(path), len(tensors), len(raw), meta))
    assert serialize(tensors, meta) == raw, "layout differs from the reference serializer"
    print("  bytes identical to the reference serializer's layout")

    model = build(meta)
    want = model.state_dict()
    assert set(tensors) == set(want), "names differ: only kiln %s, only PyTorch %s" % (
        sorted(set(tensors) - set(want)), sorted(set(want) - set(tensors)))
    for name, t in tensors.items():
        assert t.dtype == want[name].dtype and t.shape == want[name].shape, \
            "%s: kiln %s %s, PyTorch %s %s" % (name, t.dtype, list(t.shape), want[name].dtype, list(want[name].shape))
    model.load_state_dict(tensors, strict=True)
    print("  load_state_dict(strict=True): %d tensors, every dtype and shape as PyTorch's state_dict" % len(tensors))
    for name, t in sorted(tensors.items()):
        if t.dtype == torch.int64:
            print("  %s = %d (int64, shape %s)" % (name, t.item(), list(t.shape)))

    rv = torch.cat([t.flatten() for n, t in tensors.items() if n.endswith("running_var")])
    rm = torch.cat([t.flatten() for n, t in tensors.items() if n.endswith("running_mean")])
    assert not torch.equal(rv, torch.ones_like(rv)) and not torch.equal(rm, torch.zeros_like(rm)), "untrained statistics"
    print("  running_mean in [%.3g, %.3g], running_var in [%.3g, %.3g]" % (rm.min(), rm.max(), rv.min(), rv.max()))

    io, _, _ = strict_read(path[:-len(".safetensors")] + ".io.safetensors")
    model.eval()
    with torch.no_grad():
        got = model(io["x"])
    kiln = io["logits"]
    diff = (got - kiln).abs()
    print("  eval logits %s: max |PyTorch - kiln| = %.3g, max relative %.3g" % (
        list(got.shape), diff.max().item(), (diff / kiln.abs().clamp_min(1e-30)).max().item()))
    assert torch.allclose(got, kiln, rtol=1e-5, atol=1e-6), "logits differ"
    assert torch.equal(got.argmax(1), kiln.argmax(1)), "predicted classes differ"
    print("OK: PyTorch loads kiln's %s and reproduces kiln's logits within rtol 1e-5, atol 1e-6" % meta["model"])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        verify(sys.argv[2])
    elif len(sys.argv) == 1:
        make()
    else:
        sys.exit(__doc__)
