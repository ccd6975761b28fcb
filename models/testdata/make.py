#!/usr/bin/python3
"""PyTorch golden values for kiln's model zoo (models/golden_test.go).

Run with Debian's python3-torch (PyTorch 1.13, CPU), from anywhere:

    /usr/bin/python3 models/testdata/make.py

It writes models/testdata/zoo.json.gz in internal/golden's format (see internal/golden/doc.go):

    {"torch": "...", "group": "zoo", "cases": [
      {"name": "resnet8" | "lenet5", "attrs": {"in_channels", "height", "width", "classes"},
       "tensors": {"<state_dict key>": ..., "x", "dy", "y", "grad.x", "grad.<param>",
                   "after.<buffer>", "y_eval"}}]}

- State_dict tensors (num_batches_tracked too, as a float) are the values BEFORE the forward pass.
  Batch-norm weights, biases and running statistics are randomised so that loading them matters.
- "y" is the train-mode output for the batch "x" (N = 4); "grad.x" is the gradient of sum(y * dy);
  "grad.<param>" is stored for the parameters of at most GRAD_MAX elements (to keep the file small);
  "after.<buffer>" is every buffer after that forward pass; "y_eval" is the eval-mode output
  afterwards (so it uses the updated running statistics).
- To keep the committed file small, every input (weights, buffers, x, dy) is rounded to three
  significant decimal digits before use, so each is stored as a short decimal that reads back to
  the same float32 bits. Outputs are stored exactly (shortest round-tripping decimal).

The architectures below are the PyTorch modules that models/lenet.go and models/resnet.go mirror.
"""
import gzip
import json
import math
import os
import struct
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
GRAD_MAX = 2500
torch.set_num_threads(1)


class LeNet5(nn.Module):
    """PyTorch's 'Neural Networks' tutorial LeNet, with conv1 padding 2 below 32x32 inputs."""

    def __init__(self, c, h, w, classes):
        super().__init__()
        pad = 2 if h < 32 or w < 32 else 0
        self.conv1 = nn.Conv2d(c, 6, 5, padding=pad)
        self.conv2 = nn.Conv2d(6, 16, 5)
        oh = ((h + 2 * pad - 4) // 2 - 4) // 2
        ow = ((w + 2 * pad - 4) // 2 - 4) // 2
        self.fc1 = nn.Linear(16 * oh * ow, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
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
    """CIFAR ResNet of depth 6n+2 (He et al. 2016, section 4.2)."""

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


def f32_bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def fmt(v):
    """The shortest decimal that reads back to v's float32 bits, directly and through float64."""
    if not math.isfinite(v):
        raise ValueError("non-finite value %r" % v)
    s = repr(np.float32(v))
    if f32_bits(float(s)) != f32_bits(v):
        s = repr(v)
    return s


def short(t):
    """t rounded to three significant digits, as float32."""
    vals = [float("%.3g" % v) for v in t.detach().reshape(-1).tolist()]
    return torch.tensor(vals, dtype=torch.float32).reshape(t.shape)


def make_case(name, model, x, attrs):
    torch.manual_seed(zlib.crc32(("zoo/" + name).encode()))
    tensors = {}

    def put(key, v):
        assert key not in tensors, key
        tensors[key] = v.detach().to(torch.float32).clone().contiguous()

    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
                mod.num_batches_tracked.fill_(3)
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                v.copy_(short(v))
    for k, v in model.state_dict().items():
        put(k, v)
    x = short(x).requires_grad_(True)
    model.train()
    y = model(x)
    dy = short(torch.randn_like(y))
    (y * dy).sum().backward()
    put("x", x)
    put("dy", dy)
    put("y", y)
    put("grad.x", x.grad)
    for k, p in model.named_parameters():
        if p.numel() <= GRAD_MAX:
            put("grad." + k, p.grad)
    for k, b in model.named_buffers():
        put("after." + k, b)
    model.eval()
    with torch.no_grad():
        put("y_eval", model(x))
    return {"name": name, "attrs": attrs, "tensors": tensors}


def dump(path, cases):
    out = ['{"torch": %s, "group": "zoo", "cases": [' % json.dumps(torch.__version__)]
    for i, c in enumerate(cases):
        out.append(' {"name": %s, "attrs": %s, "tensors": {' % (json.dumps(c["name"]), json.dumps(c["attrs"], sort_keys=True)))
        keys = sorted(c["tensors"])
        for j, k in enumerate(keys):
            v = c["tensors"][k]
            data = ", ".join(fmt(x) for x in v.reshape(-1).tolist())
            out.append('  %s: {"shape": %s, "data": [%s]}%s' % (
                json.dumps(k), json.dumps(list(v.shape)), data, "," if j + 1 < len(keys) else ""))
        out.append(" }}" + ("," if i + 1 < len(cases) else ""))
    out.append("]}")
    text = ("\n".join(out) + "\n").encode()
    json.loads(text)
    with open(path, "wb") as f:
        # mtime=0 and no file name keep the output byte-identical between runs.
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=f, mtime=0) as z:
            z.write(text)


def main():
    cases = []
    # resnet8 on odd, non-square images: 15x13 -> 8x7 -> 4x4 through the stride-2 stages.
    torch.manual_seed(zlib.crc32(b"zoo/resnet8/init"))
    n, c, h, w, k = 4, 3, 15, 13, 6
    m = ResNet(8, c, k)
    cases.append(make_case("resnet8", m, torch.randn(n, c, h, w),
                           {"model": "resnet8", "in_channels": c, "height": h, "width": w, "classes": k}))
    # lenet5 below 32x32 (conv1 pads by 2), non-square so that flatten's order matters: fc1 is 16*3*4.
    torch.manual_seed(zlib.crc32(b"zoo/lenet5/init"))
    n, c, h, w, k = 4, 1, 20, 24, 10
    m = LeNet5(c, h, w, k)
    cases.append(make_case("lenet5", m, torch.randn(n, c, h, w),
                           {"model": "lenet5", "in_channels": c, "height": h, "width": w, "classes": k}))
    path = os.path.join(HERE, "zoo.json.gz")
    dump(path, cases)
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


if __name__ == "__main__":
    main()
