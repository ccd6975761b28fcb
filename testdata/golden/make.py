#!/usr/bin/python3
"""PyTorch golden values for kiln's engine tests.

Run with Debian's python3-torch (the apt package, PyTorch 1.13, CPU):

    /usr/bin/python3 testdata/golden/make.py            # every group
    /usr/bin/python3 testdata/golden/make.py conv2d     # only the named groups

check.py re-derives every file from its own inputs and attrs; run it after changing this script.

It writes testdata/golden/<group>.json next to itself (seedcnn, too big as text, goes to
seedcnn.json.gz: the same JSON, gzip-compressed). Go tests read those files through
internal/golden and never need Python. The script is deterministic: torch runs on one thread,
and every case seeds torch.manual_seed with crc32("<group>/<name>"), so adding a case leaves
the others byte-identical.

FILE FORMAT (a contract with the Go tests; internal/golden's doc comment repeats it)

    {"torch": "<torch.__version__>", "group": "<group>", "cases": [
      {"name": "...", "attrs": {...},
       "tensors": {"<name>": {"shape": [d0, d1, ...], "data": [flat row-major numbers]}}}]}

- Every tensor is float32. Each number is the shortest decimal that reads back as the same float32
  both when parsed straight to float32 and when parsed to float64 and then rounded to float32
  (checked here for every value; where the shortest form fails the second test, Python's repr of the
  exact float64 value is written instead). So the Go side gets torch's bits exactly. No NaN or Inf
  appears anywhere.
- A scalar has shape [] and one datum. Integer tensors (class targets, labels) are stored as
  float32 tensors too; every such value is an exact small integer.
- attrs hold constructor arguments under PyTorch's names. Sizes that PyTorch accepts as an int or a
  pair are always written as a list ([kh, kw], [sh, sw], [ph, pw], [dh, dw], output_size [oh, ow]).
  Booleans are JSON booleans. Where one group mixes operations, attrs "op" names it ("relu",
  "cross_entropy", "Adam", "StepLR", ...). A norm_type of infinity is the string "inf".

NAMING INSIDE A CASE
- inputs "x" (a second one "x2"), layer parameters and buffers by their state_dict names ("weight",
  "bias", "running_mean", "running_var"), all recorded BEFORE the forward pass;
- forward output "y"; upstream gradient "dy" (random; the scalar that is differentiated is
  sum(y * dy)); gradients "grad.x", "grad.weight", "grad.bias";
- state after the forward pass: "after.running_mean", "after.running_var".

Group-specific names (losses' "target"; optim's "step{t}.p0"; sched's "lr"; seedcnn's "final.<param>")
are listed in README.md and at each gen_* function.

GROUPS (see each gen_* function for the exact cases)
  linear, conv2d, maxpool2d, avgpool2d, adaptiveavgpool2d, batchnorm, activations, losses,
  optim, sched, seedcnn, init
"""
import gzip
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
# Groups written gzip-compressed as <group>.json.gz: the seed CNN's weights alone are ~1M floats
# (~11 MB as text, ~4 MB gzipped). internal/golden reads either form.
GZIP_GROUPS = {"seedcnn"}
torch.set_num_threads(1)


# ---------------------------------------------------------------------------------------------
# Writing


def f32_bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def fmt(v):
    """Format v (a Python float holding an exact float32) as described in the module doc."""
    if not math.isfinite(v):
        raise ValueError("non-finite value %r" % v)
    s = repr(np.float32(v))
    if f32_bits(float(s)) != f32_bits(v):
        s = repr(v)  # exact float64 repr of a float32 value: always round-trips
    return s


class Case:
    def __init__(self, group, name, **attrs):
        self.name = name
        self.attrs = attrs
        self.tensors = {}
        torch.manual_seed(zlib.crc32(("%s/%s" % (group, name)).encode()))

    def t(self, key, value):
        if key in self.tensors:
            raise KeyError("duplicate tensor %s in %s" % (key, self.name))
        if not torch.is_tensor(value):
            value = torch.tensor(value, dtype=torch.float32)
        value = value.detach()
        if not value.is_floating_point():
            assert value.abs().max().item() < 2**24, "integer too large for float32"
        # clone: a recorded tensor must not follow later in-place updates (running stats, params).
        self.tensors[key] = value.to(torch.float32).clone().contiguous()


def dump(group, cases):
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names in " + group
    out = ['{"torch": %s, "group": %s, "cases": [' % (json.dumps(torch.__version__), json.dumps(group))]
    for i, c in enumerate(cases):
        out.append(' {"name": %s, "attrs": %s, "tensors": {' % (
            json.dumps(c.name), json.dumps(c.attrs, sort_keys=True, allow_nan=False)))
        keys = sorted(c.tensors)
        for j, k in enumerate(keys):
            v = c.tensors[k]
            data = ", ".join(fmt(x) for x in v.reshape(-1).tolist())
            out.append('  %s: {"shape": %s, "data": [%s]}%s' % (
                json.dumps(k), json.dumps(list(v.shape)), data, "," if j + 1 < len(keys) else ""))
        out.append(" }}" + ("," if i + 1 < len(cases) else ""))
    out.append("]}")
    text = ("\n".join(out) + "\n").encode()
    json.loads(text)  # the file must be valid JSON
    path = os.path.join(HERE, group + ".json")
    stale = path + ".gz"
    if group in GZIP_GROUPS:
        path, stale = stale, path
        with open(path, "wb") as f:
            # mtime=0 and no file name keep the output byte-identical between runs.
            with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=f, mtime=0) as z:
                z.write(text)
    else:
        with open(path, "wb") as f:
            f.write(text)
    if os.path.exists(stale):
        os.remove(stale)
    return path


def run_module(c, m, x, record_state=True):
    """Record m's state, forward x, backward a random dy, record output, gradients and new buffers."""
    if record_state:
        for k, v in m.state_dict().items():
            if v.is_floating_point():
                c.t(k, v)
    x = x.detach().clone().requires_grad_(True)
    y = m(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    c.t("x", x)
    c.t("y", y)
    c.t("dy", dy)
    c.t("grad.x", x.grad)
    for k, p in m.named_parameters():
        c.t("grad." + k, p.grad)
    for k, b in m.named_buffers():
        if b.is_floating_point():
            c.t("after." + k, b)


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


# ---------------------------------------------------------------------------------------------
# Layers


def gen_linear(g):
    cases = []
    for name, fin, fout, bias, xshape in [
        ("in4_out3_bias", 4, 3, True, (2, 4)),
        ("in5_out2_nobias", 5, 2, False, (3, 5)),
        ("in3_out6_x1d", 3, 6, True, (3,)),
        ("in4_out3_x3d", 4, 3, True, (2, 3, 4)),
        ("in7_out5_x3d_nobias", 7, 5, False, (2, 2, 7)),
        ("in1_out1_batch1", 1, 1, True, (1, 1)),
        ("in16_out9_batch8", 16, 9, True, (8, 16)),
    ]:
        c = Case(g, name, in_features=fin, out_features=fout, bias=bias)
        m = nn.Linear(fin, fout, bias=bias)
        run_module(c, m, torch.randn(*xshape))
        cases.append(c)
    return cases


def gen_conv2d(g):
    cases = []
    #        name                       N Cin Cout  H  W  kernel  stride  pad     dil     groups bias
    table = [
        ("basic_k3",                    2, 3, 4,   7, 7, (3, 3), (1, 1), (0, 0), (1, 1), 1, True),
        ("pad1_k3",                     2, 2, 3,   6, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
        ("stride2_pad1_odd",            2, 3, 4,   7, 7, (3, 3), (2, 2), (1, 1), (1, 1), 1, True),
        ("stride2_k2_even",             2, 2, 3,   8, 8, (2, 2), (2, 2), (0, 0), (1, 1), 1, True),
        ("pad2_k5",                     2, 2, 2,   9, 9, (5, 5), (1, 1), (2, 2), (1, 1), 1, True),
        ("asym_kernel_stride_pad",      2, 3, 2,   7, 8, (3, 2), (1, 2), (1, 2), (1, 1), 1, True),
        ("dilation2_pad2",              2, 2, 3,   8, 8, (3, 3), (1, 1), (2, 2), (2, 2), 1, True),
        ("dilation_2x1_stride2",        2, 2, 2,   9, 7, (3, 3), (2, 2), (1, 0), (2, 1), 1, True),
        ("groups2",                     2, 4, 6,   6, 6, (3, 3), (1, 1), (1, 1), (1, 1), 2, True),
        ("depthwise",                   2, 4, 4,   6, 7, (3, 3), (1, 1), (1, 1), (1, 1), 4, True),
        ("depthwise_mult2_stride2",     2, 3, 6,   7, 7, (3, 3), (2, 2), (1, 1), (1, 1), 3, False),
        ("nobias",                      2, 3, 4,   5, 5, (3, 3), (1, 1), (0, 0), (1, 1), 1, False),
        ("k1x1",                        2, 5, 3,   4, 6, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),
        ("k1x1_stride2",                2, 4, 2,   5, 5, (1, 1), (2, 2), (0, 0), (1, 1), 1, False),
        ("batch3_odd_k2x3",             3, 2, 3,   5, 7, (2, 3), (2, 1), (0, 1), (1, 1), 1, False),
        ("kernel_equals_input",         2, 3, 2,   5, 5, (5, 5), (1, 1), (0, 0), (1, 1), 1, True),
        ("stride3_ragged",              2, 2, 3,  10, 8, (3, 3), (3, 3), (0, 1), (1, 1), 1, True),
        ("batch1_seedcnn_like",         1, 3, 8,  12, 12, (5, 5), (1, 1), (0, 0), (1, 1), 1, True),
    ]
    for name, n, cin, cout, h, w, k, s, p, d, groups, bias in table:
        c = Case(g, name, in_channels=cin, out_channels=cout, kernel_size=list(k), stride=list(s),
                 padding=list(p), dilation=list(d), groups=groups, bias=bias, padding_mode="zeros")
        m = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=groups, bias=bias)
        run_module(c, m, torch.randn(n, cin, h, w))
        cases.append(c)
    return cases


def gen_maxpool2d(g):
    cases = []
    #   name                      N C  H  W  kernel  stride  pad     dil     ceil
    table = [
        ("k2_s2",                 2, 3, 4, 4, (2, 2), (2, 2), (0, 0), (1, 1), False),
        ("k2_s2_odd_floor",       2, 2, 5, 5, (2, 2), (2, 2), (0, 0), (1, 1), False),
        ("k2_s2_odd_ceil",        2, 2, 5, 5, (2, 2), (2, 2), (0, 0), (1, 1), True),
        ("k3_s2_p1",              2, 2, 7, 7, (3, 3), (2, 2), (1, 1), (1, 1), False),
        ("k3_s1_p1",              1, 3, 5, 6, (3, 3), (1, 1), (1, 1), (1, 1), False),
        ("k3x2_s2x1",             2, 2, 7, 6, (3, 2), (2, 1), (0, 0), (1, 1), False),
        ("dilation2",             2, 2, 7, 7, (3, 3), (1, 1), (0, 0), (2, 2), False),
        ("dilation2_p1_ceil",     2, 2, 8, 7, (2, 2), (2, 2), (1, 1), (2, 2), True),
        # ceil_mode where the last window would start inside the right padding: PyTorch drops it.
        ("k2_s2_p1_ceil_drop",    2, 2, 5, 5, (2, 2), (2, 2), (1, 1), (1, 1), True),
        ("k3_s2_p1_ceil",         2, 2, 6, 6, (3, 3), (2, 2), (1, 1), (1, 1), True),
        ("k2_s1",                 2, 2, 4, 5, (2, 2), (1, 1), (0, 0), (1, 1), False),
        ("seedcnn_28",            1, 2, 28, 28, (2, 2), (2, 2), (0, 0), (1, 1), False),
    ]
    for name, n, ch, h, w, k, s, p, d, ceil in table:
        c = Case(g, name, kernel_size=list(k), stride=list(s), padding=list(p), dilation=list(d),
                 ceil_mode=ceil, return_indices=False)
        m = nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        # randn has negatives, so a window hanging over the padding tells -inf padding from zero padding.
        run_module(c, m, torch.randn(n, ch, h, w))
        cases.append(c)
    return cases


def gen_avgpool2d(g):
    cases = []
    #   name                          N C  H  W  kernel  stride  pad     ceil   count_include_pad
    table = [
        ("k2_s2",                     2, 3, 4, 4, (2, 2), (2, 2), (0, 0), False, True),
        ("k3_s2_p1_include",          2, 2, 7, 7, (3, 3), (2, 2), (1, 1), False, True),
        ("k3_s2_p1_exclude",          2, 2, 7, 7, (3, 3), (2, 2), (1, 1), False, False),
        ("k3_s1_p1_exclude",          1, 2, 5, 6, (3, 3), (1, 1), (1, 1), False, False),
        ("k2_s2_odd_ceil",            2, 2, 5, 5, (2, 2), (2, 2), (0, 0), True, True),
        ("k3_s2_p1_ceil_include",     2, 2, 6, 6, (3, 3), (2, 2), (1, 1), True, True),
        ("k3_s2_p1_ceil_exclude",     2, 2, 6, 6, (3, 3), (2, 2), (1, 1), True, False),
        ("k2_s2_p1_ceil_include",     2, 2, 5, 5, (2, 2), (2, 2), (1, 1), True, True),
        ("k3x2_s2x1_p1x0",            2, 2, 7, 6, (3, 2), (2, 1), (1, 0), False, True),
        ("k3_s3_ragged_ceil",         2, 2, 7, 8, (3, 3), (3, 3), (0, 0), True, True),
    ]
    for name, n, ch, h, w, k, s, p, ceil, cip in table:
        c = Case(g, name, kernel_size=list(k), stride=list(s), padding=list(p), ceil_mode=ceil,
                 count_include_pad=cip)
        m = nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip)
        run_module(c, m, torch.randn(n, ch, h, w))
        cases.append(c)
    return cases


def gen_adaptiveavgpool2d(g):
    cases = []
    for name, n, ch, h, w, out in [
        ("6x6_to_3x3", 2, 3, 6, 6, (3, 3)),
        ("5x7_to_3x4", 2, 2, 5, 7, (3, 4)),
        ("7x7_to_1x1", 2, 4, 7, 7, (1, 1)),
        ("4x4_identity", 1, 2, 4, 4, (4, 4)),
        ("3x3_to_5x5_upsample", 2, 2, 3, 3, (5, 5)),
        ("10x9_to_4x3", 2, 2, 10, 9, (4, 3)),
        ("7x5_to_2x5", 1, 3, 7, 5, (2, 5)),
    ]:
        c = Case(g, name, output_size=list(out))
        run_module(c, nn.AdaptiveAvgPool2d(out), torch.randn(n, ch, h, w))
        cases.append(c)
    return cases


def gen_batchnorm(g):
    cases = []
    #   name                     kind  xshape         momentum eps    affine training
    table = [
        ("bn1d_nc_train",        "1d", (8, 4),        0.1,    1e-5,  True,  True),
        ("bn1d_ncl_train",       "1d", (4, 3, 5),     0.1,    1e-5,  True,  True),
        ("bn1d_ncl_train_mom03_noaffine", "1d", (4, 3, 5), 0.3, 1e-5, False, True),
        ("bn1d_nc_train_batch2", "1d", (2, 3),        0.1,    1e-5,  True,  True),
        ("bn2d_train",           "2d", (3, 4, 5, 5),  0.1,    1e-5,  True,  True),
        ("bn2d_train_mom025_eps1e-3", "2d", (2, 3, 4, 6), 0.25, 1e-3, True, True),
        ("bn2d_train_noaffine",  "2d", (2, 3, 4, 4),  0.1,    1e-5,  False, True),
        ("bn2d_train_batch1",    "2d", (1, 2, 3, 3),  0.1,    1e-5,  True,  True),
        ("bn1d_nc_eval",         "1d", (6, 4),        0.1,    1e-5,  True,  False),
        ("bn1d_ncl_eval_noaffine", "1d", (3, 2, 5),   0.1,    1e-5,  False, False),
        ("bn2d_eval",            "2d", (2, 3, 4, 5),  0.1,    1e-5,  True,  False),
        ("bn2d_eval_noaffine_eps1e-3", "2d", (2, 3, 3, 3), 0.1, 1e-3, False, False),
    ]
    for name, kind, xshape, mom, eps, affine, training in table:
        ch = xshape[1]
        cls = nn.BatchNorm1d if kind == "1d" else nn.BatchNorm2d
        c = Case(g, name, kind=cls.__name__, num_features=ch, eps=eps, momentum=mom, affine=affine,
                 track_running_stats=True, training=training)
        m = cls(ch, eps=eps, momentum=mom, affine=affine)
        with torch.no_grad():
            # Non-default parameters and running stats, so every term of the formulas shows.
            if affine:
                m.weight.copy_(1 + 0.5 * torch.randn(ch))
                m.bias.copy_(0.5 * torch.randn(ch))
            m.running_mean.copy_(0.5 * torch.randn(ch))
            m.running_var.copy_(0.5 + torch.rand(ch))
        m.train(training)
        run_module(c, m, 2 * torch.randn(*xshape) + 0.7)
        cases.append(c)
    return cases


# ---------------------------------------------------------------------------------------------
# Activations


def gen_activations(g):
    cases = []

    def add(name, op, fn, x, **attrs):
        c = Case(g, name, op=op, **attrs)
        x = x() if callable(x) else x  # drawn after the seed
        x = x.detach().clone().requires_grad_(True)
        y = fn(x)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        c.t("x", x)
        c.t("y", y)
        c.t("dy", dy)
        c.t("grad.x", x.grad)
        cases.append(c)

    big = lambda: torch.tensor([[100.0, -100.0, 0.5, 30.0, -30.0], [1000.0, 999.0, -1000.0, 0.0, 88.0],
                                [-100.0, -101.0, -102.0, -103.0, -104.0]])
    # Exact zeros pin the subgradient convention: relu'(0) = 0, leaky_relu'(0) = negative_slope.
    zeros = lambda: torch.tensor([[-2.0, -0.0, 0.0, 0.5, 3.0], [0.0, -1.0, 2.0, 0.0, -0.25]])
    r = lambda *s: (lambda: 3 * torch.randn(*s))

    add("relu", "relu", F.relu, r(3, 5))
    add("relu_zeros", "relu", F.relu, zeros)
    add("relu_4d", "relu", F.relu, r(2, 3, 2, 2))
    for ns in (0.01, 0.2):
        add("leaky_relu_%g" % ns, "leaky_relu", lambda x, ns=ns: F.leaky_relu(x, ns), r(3, 5), negative_slope=ns)
    add("leaky_relu_0.1_zeros", "leaky_relu", lambda x: F.leaky_relu(x, 0.1), zeros, negative_slope=0.1)
    add("sigmoid", "sigmoid", torch.sigmoid, r(3, 5))
    add("sigmoid_large", "sigmoid", torch.sigmoid, big)
    add("tanh", "tanh", torch.tanh, r(3, 5))
    add("tanh_large", "tanh", torch.tanh, big)
    for ap in ("none", "tanh"):
        add("gelu_" + ap, "gelu", lambda x, ap=ap: F.gelu(x, approximate=ap), r(3, 5), approximate=ap)
        add("gelu_%s_large" % ap, "gelu", lambda x, ap=ap: F.gelu(x, approximate=ap), big, approximate=ap)
    for op, fn in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        add(op + "_2d_dim1", op, lambda x, fn=fn: fn(x, dim=1), r(3, 5), dim=1)
        add(op + "_2d_dim-1", op, lambda x, fn=fn: fn(x, dim=-1), r(3, 5), dim=-1)
        add(op + "_2d_dim0", op, lambda x, fn=fn: fn(x, dim=0), r(3, 5), dim=0)
        add(op + "_3d_dim1", op, lambda x, fn=fn: fn(x, dim=1), r(2, 3, 4), dim=1)
        add(op + "_3d_dim-1", op, lambda x, fn=fn: fn(x, dim=-1), r(2, 3, 4), dim=-1)
        add(op + "_large_dim1", op, lambda x, fn=fn: fn(x, dim=1), big, dim=1)
    for dim in (1, -1):
        for keep in (False, True):
            add("logsumexp_3d_dim%d_keepdim%d" % (dim, keep), "logsumexp",
                lambda x, dim=dim, keep=keep: torch.logsumexp(x, dim=dim, keepdim=keep), r(2, 3, 4),
                dim=dim, keepdim=keep)
    add("logsumexp_large_dim1", "logsumexp", lambda x: torch.logsumexp(x, dim=1), big, dim=1, keepdim=False)
    add("logsumexp_large_dim0", "logsumexp", lambda x: torch.logsumexp(x, dim=0), big, dim=0, keepdim=False)
    for sd, ed in ((1, -1), (0, -1), (1, 2), (-3, -2), (2, 3), (0, 0)):
        add("flatten_%d_%d" % (sd, ed), "flatten", lambda x, sd=sd, ed=ed: torch.flatten(x, sd, ed),
            r(2, 3, 4, 5), start_dim=sd, end_dim=ed)
    return cases


# ---------------------------------------------------------------------------------------------
# Losses


def gen_losses(g):
    cases = []

    def add(name, op, fn, x, target, reduction, tensors=None, **attrs):
        c = Case(g, name, op=op, reduction=reduction, **attrs)
        x, target = x(), target()
        extra = {k: v() for k, v in (tensors or {}).items()}
        x = x.detach().clone().requires_grad_(True)
        y = fn(x, target, reduction=reduction, **extra)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        c.t("x", x)
        c.t("target", target)
        for k, v in extra.items():
            c.t(k, v)
        c.t("y", y)
        c.t("dy", dy)
        c.t("grad.x", x.grad)
        cases.append(c)

    N, C = 6, 5
    logits = lambda *s: (lambda: 2 * torch.randn(*s))
    idx = lambda hi, *s: (lambda: torch.randint(0, hi, s))
    w = lambda n: (lambda: 0.2 + 2 * torch.rand(n))

    def with_ignored(hi, shape, ignore, pos):
        def f():
            t = torch.randint(0, hi, shape)
            t.view(-1)[list(pos)] = ignore
            return t
        return f

    def probs(*s):
        return lambda: torch.softmax(torch.randn(*s), dim=1)

    def big_logits():
        x = 2 * torch.randn(N, C)
        x[0, 1], x[1, 3], x[2, 0], x[3, 4] = 100.0, -100.0, 1000.0, 80.0
        return x

    def ce(name, x, target, reduction, weight=None, ls=0.0, ii=-100, kind="index"):
        tensors = {"weight": weight} if weight else {}
        add(name, "cross_entropy",
            lambda x, t, reduction, **kw: F.cross_entropy(x, t, reduction=reduction, label_smoothing=ls,
                                                          ignore_index=ii, **kw),
            x, target, reduction, tensors, label_smoothing=ls, ignore_index=ii, target_kind=kind)

    for red in ("mean", "sum", "none"):
        ce("ce_" + red, logits(N, C), idx(C, N), red)
        ce("ce_weight_" + red, logits(N, C), idx(C, N), red, weight=w(C))
        ce("ce_smooth0.1_" + red, logits(N, C), idx(C, N), red, ls=0.1)
        ce("ce_smooth0.2_weight_" + red, logits(N, C), idx(C, N), red, weight=w(C), ls=0.2)
        ce("ce_ignore-100_" + red, logits(N, C), with_ignored(C, (N,), -100, (1, 4)), red)
        ce("ce_ignore2_weight_" + red, logits(N, C), with_ignored(C, (N,), 2, (0, 3)), red, weight=w(C), ii=2)
        ce("ce_spatial_" + red, logits(2, 3, 2, 3), idx(3, 2, 2, 3), red)
        ce("ce_probs_" + red, logits(N, C), probs(N, C), red, kind="probs")
    ce("ce_ignore2_weight_smooth0.1_mean", logits(N, C), with_ignored(C, (N,), 2, (0, 3)), "mean",
       weight=w(C), ls=0.1, ii=2)
    ce("ce_ignore-100_smooth0.1_mean", logits(N, C), with_ignored(C, (N,), -100, (2,)), "mean", ls=0.1)
    ce("ce_spatial_weight_mean", logits(2, 3, 2, 3), idx(3, 2, 2, 3), "mean", weight=w(3))
    ce("ce_spatial_ignore-100_mean", logits(2, 3, 2, 3), with_ignored(3, (2, 2, 3), -100, (0, 5, 7)), "mean")
    ce("ce_probs_weight_mean", logits(N, C), probs(N, C), "mean", weight=w(C), kind="probs")
    ce("ce_probs_smooth0.1_mean", logits(N, C), probs(N, C), "mean", ls=0.1, kind="probs")
    ce("ce_large_logits_mean", big_logits, idx(C, N), "mean")
    ce("ce_large_logits_none", big_logits, idx(C, N), "none")
    ce("ce_1d_input_mean", logits(C), lambda: torch.tensor(3), "mean")

    def nll(name, x, target, reduction, weight=None, ii=-100):
        tensors = {"weight": weight} if weight else {}
        add(name, "nll_loss",
            lambda x, t, reduction, **kw: F.nll_loss(x, t, reduction=reduction, ignore_index=ii, **kw),
            x, target, reduction, tensors, ignore_index=ii)

    logp = lambda *s: (lambda: torch.log_softmax(2 * torch.randn(*s), dim=1))
    for red in ("mean", "sum", "none"):
        nll("nll_" + red, logp(N, C), idx(C, N), red)
        nll("nll_weight_" + red, logp(N, C), idx(C, N), red, weight=w(C))
        nll("nll_ignore1_weight_" + red, logp(N, C), with_ignored(C, (N,), 1, (2, 5)), red, weight=w(C), ii=1)
        nll("nll_spatial_" + red, logp(2, 3, 2, 3), idx(3, 2, 2, 3), red)
    nll("nll_ignore-100_mean", logp(N, C), with_ignored(C, (N,), -100, (0,)), "mean")
    nll("nll_spatial_weight_ignore-100_mean", logp(2, 3, 2, 3), with_ignored(3, (2, 2, 3), -100, (1, 6)),
        "mean", weight=w(3))

    for red in ("mean", "sum", "none"):
        add("mse_" + red, "mse_loss", F.mse_loss, lambda: torch.randn(3, 4), lambda: torch.randn(3, 4), red)
    add("mse_3d_mean", "mse_loss", F.mse_loss, lambda: torch.randn(2, 3, 4), lambda: torch.randn(2, 3, 4), "mean")

    def bce_target():
        t = torch.rand(4, 3)
        t[0, 0], t[1, 1], t[2, 2], t[3, 0] = 0.0, 1.0, 1.0, 0.0
        return t

    def big_bce():
        x = 3 * torch.randn(4, 3)
        x[0, 0], x[0, 1], x[1, 2], x[2, 1], x[3, 2] = 100.0, -100.0, -1000.0, 1000.0, 40.0
        return x

    bl = lambda: 3 * torch.randn(4, 3)
    bce = F.binary_cross_entropy_with_logits
    for red in ("mean", "sum", "none"):
        add("bce_" + red, "binary_cross_entropy_with_logits", bce, bl, bce_target, red)
        add("bce_weight_full_" + red, "binary_cross_entropy_with_logits", bce, bl, bce_target, red,
            {"weight": lambda: torch.rand(4, 3) * 2})
        add("bce_pos_weight_" + red, "binary_cross_entropy_with_logits", bce, bl, bce_target, red,
            {"pos_weight": lambda: 0.5 + 2 * torch.rand(3)})
    add("bce_weight_broadcast_mean", "binary_cross_entropy_with_logits", bce, bl, bce_target, "mean",
        {"weight": lambda: torch.rand(3) * 2})
    add("bce_weight_pos_weight_mean", "binary_cross_entropy_with_logits", bce, bl, bce_target, "mean",
        {"weight": lambda: torch.rand(4, 3) * 2, "pos_weight": lambda: 0.5 + 2 * torch.rand(3)})
    add("bce_large_logits_none", "binary_cross_entropy_with_logits", bce, big_bce, bce_target, "none")
    add("bce_large_logits_pos_weight_mean", "binary_cross_entropy_with_logits", bce, big_bce, bce_target,
        "mean", {"pos_weight": lambda: 0.5 + 2 * torch.rand(3)})
    add("bce_1d_sum", "binary_cross_entropy_with_logits", bce, lambda: 2 * torch.randn(7),
        lambda: torch.rand(7), "sum")
    return cases


# ---------------------------------------------------------------------------------------------
# Optimizers, gradient clipping and schedules

OPTIM_KEYS = ("lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize", "betas", "eps",
              "amsgrad", "alpha", "centered")


def gen_optim(g):
    cases = []
    configs = [
        ("sgd_plain", torch.optim.SGD, dict(lr=0.1)),
        ("sgd_momentum", torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
        ("sgd_momentum_dampening", torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
        ("sgd_nesterov", torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("sgd_weight_decay", torch.optim.SGD, dict(lr=0.1, weight_decay=0.05)),
        ("sgd_momentum_weight_decay", torch.optim.SGD, dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
        ("sgd_nesterov_weight_decay", torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
        ("sgd_maximize", torch.optim.SGD, dict(lr=0.1, momentum=0.5, maximize=True)),
        ("adam_default_lr0.05", torch.optim.Adam, dict(lr=0.05)),
        ("adam_betas_eps", torch.optim.Adam, dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6)),
        ("adam_weight_decay", torch.optim.Adam, dict(lr=0.05, weight_decay=0.1)),
        ("adam_amsgrad", torch.optim.Adam, dict(lr=0.05, amsgrad=True)),
        ("adam_amsgrad_weight_decay", torch.optim.Adam, dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.05, amsgrad=True)),
        ("adam_lr1e-3", torch.optim.Adam, dict(lr=1e-3)),
        ("adam_maximize_weight_decay", torch.optim.Adam, dict(lr=0.05, weight_decay=0.05, maximize=True)),
        ("adamw_default_lr0.05", torch.optim.AdamW, dict(lr=0.05)),
        ("adamw_weight_decay0.1", torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
        ("adamw_amsgrad", torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
        ("adamw_betas_eps", torch.optim.AdamW, dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.02)),
        ("adamw_amsgrad_maximize", torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
        ("rmsprop_default", torch.optim.RMSprop, dict(lr=0.01)),
        ("rmsprop_alpha_eps_wd", torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01)),
        ("rmsprop_momentum", torch.optim.RMSprop, dict(lr=0.01, momentum=0.9)),
        ("rmsprop_centered", torch.optim.RMSprop, dict(lr=0.01, centered=True)),
        ("rmsprop_centered_momentum_wd", torch.optim.RMSprop, dict(lr=0.01, alpha=0.95, momentum=0.5, centered=True, weight_decay=0.05)),
        ("rmsprop_maximize", torch.optim.RMSprop, dict(lr=0.01, maximize=True)),
        ("rmsprop_maximize_centered_momentum", torch.optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, maximize=True)),
    ]
    for name, cls, kw in configs:
        p0 = torch.nn.Parameter(torch.zeros(3, 4))
        p1 = torch.nn.Parameter(torch.zeros(5))
        opt = cls([p0, p1], foreach=False, **kw)
        attrs = {"op": cls.__name__, "steps": 5, "loss": "sum(A*p^2)/2 + sum(B*sin(p)) over p0, p1"}
        for k in OPTIM_KEYS:
            if k in opt.param_groups[0]:
                v = opt.param_groups[0][k]
                attrs[k] = list(v) if isinstance(v, tuple) else v
        c = Case(g, name, **attrs)
        with torch.no_grad():
            p0.copy_(torch.randn(3, 4))
            p1.copy_(torch.randn(5))
        A = [torch.rand(3, 4) + 0.5, torch.rand(5) + 0.5]
        B = [torch.randn(3, 4), torch.randn(5)]
        c.t("p0", p0)
        c.t("p1", p1)
        c.t("A0", A[0]); c.t("A1", A[1]); c.t("B0", B[0]); c.t("B1", B[1])
        for t in range(1, 6):
            opt.zero_grad()
            loss = sum((a * p * p).sum() / 2 + (b * torch.sin(p)).sum() for a, b, p in zip(A, B, (p0, p1)))
            loss.backward()
            c.t("step%d.grad.p0" % t, p0.grad)
            c.t("step%d.grad.p1" % t, p1.grad)
            opt.step()
            c.t("step%d.p0" % t, p0)
            c.t("step%d.p1" % t, p1)
        cases.append(c)

    for name, norm, max_norm, shapes in [
        ("clip_l2_clips", 2.0, 1.0, [(3, 4), (5,), (2, 2, 2)]),
        ("clip_l2_no_clip", 2.0, 100.0, [(3, 4), (5,), (2, 2, 2)]),
        ("clip_l2_single", 2.0, 0.5, [(4, 3)]),
        ("clip_inf_clips", math.inf, 0.5, [(3, 4), (5,), (2, 2, 2)]),
        ("clip_inf_no_clip", math.inf, 50.0, [(3, 4), (5,)]),
        ("clip_l1_clips", 1.0, 2.0, [(3, 4), (5,)]),
    ]:
        c = Case(g, name, op="clip_grad_norm_", max_norm=max_norm,
                 norm_type="inf" if math.isinf(norm) else norm, n_tensors=len(shapes))
        ps = [torch.nn.Parameter(torch.zeros(s)) for s in shapes]
        for i, p in enumerate(ps):
            p.grad = 2 * torch.randn(p.shape)
            c.t("g%d" % i, p.grad)
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm)
        for i, p in enumerate(ps):
            c.t("clipped.g%d" % i, p.grad)
        c.t("total_norm", total)
        cases.append(c)
    return cases


def gen_sched(g):
    S = torch.optim.lr_scheduler
    cases = []
    configs = [
        ("steplr_7_0.5", "StepLR", dict(step_size=7, gamma=0.5), "SGD"),
        ("steplr_1_0.9", "StepLR", dict(step_size=1, gamma=0.9), "SGD"),
        ("steplr_10_0.1", "StepLR", dict(step_size=10, gamma=0.1), "SGD"),
        ("multisteplr_5_12_20", "MultiStepLR", dict(milestones=[5, 12, 20], gamma=0.3), "SGD"),
        ("multisteplr_repeated", "MultiStepLR", dict(milestones=[5, 5, 10], gamma=0.5), "SGD"),
        ("cosine_30_0", "CosineAnnealingLR", dict(T_max=30, eta_min=0.0), "SGD"),
        ("cosine_10_0.001_past_tmax", "CosineAnnealingLR", dict(T_max=10, eta_min=0.001), "SGD"),
        ("cosine_12_0.01_past_tmax", "CosineAnnealingLR", dict(T_max=12, eta_min=0.01), "SGD"),
    ]
    oc = dict(max_lr=0.1, total_steps=30, pct_start=0.3, anneal_strategy="cos", cycle_momentum=True,
              base_momentum=0.85, max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False)
    configs += [
        ("onecycle_cos", "OneCycleLR", dict(oc), "SGD"),
        ("onecycle_linear", "OneCycleLR", dict(oc, anneal_strategy="linear"), "SGD"),
        ("onecycle_cos_three_phase", "OneCycleLR", dict(oc, three_phase=True), "SGD"),
        ("onecycle_linear_three_phase", "OneCycleLR", dict(oc, anneal_strategy="linear", three_phase=True), "SGD"),
        ("onecycle_custom", "OneCycleLR", dict(oc, max_lr=0.5, pct_start=0.25, div_factor=10.0,
                                               final_div_factor=100.0), "SGD"),
        ("onecycle_cos_adam", "OneCycleLR", dict(oc, max_lr=0.01), "Adam"),
        ("onecycle_linear_three_phase_adam", "OneCycleLR",
         dict(oc, max_lr=0.01, anneal_strategy="linear", three_phase=True, base_momentum=0.8,
              max_momentum=0.9), "Adam"),
        ("onecycle_no_cycle_momentum", "OneCycleLR", dict(oc, cycle_momentum=False), "SGD"),
    ]
    steps = 30
    for name, sched, kw, optname in configs:
        p = torch.nn.Parameter(torch.zeros(2))
        if optname == "SGD":
            opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        else:
            opt = torch.optim.Adam([p], lr=0.01)
        c = Case(g, name, op=sched, optimizer=optname, optimizer_lr=opt.param_groups[0]["lr"], steps=steps, **kw)
        s = getattr(S, sched)(opt, **kw)
        lrs, moms = [], []
        for t in range(steps):
            pg = opt.param_groups[0]
            lrs.append(pg["lr"])
            moms.append(pg["momentum"] if optname == "SGD" else pg["betas"][0])
            opt.step()
            s.step()
        c.t("lr", torch.tensor(lrs, dtype=torch.float64))
        if sched == "OneCycleLR":
            c.t("momentum" if optname == "SGD" else "beta1", torch.tensor(moms, dtype=torch.float64))
        cases.append(c)
    return cases


# ---------------------------------------------------------------------------------------------
# The seed CNN end to end


class SeedCNN(nn.Module):
    """seed_pytorch.py's CNN; layers are built in the same order, so manual_seed(0) gives its weights."""

    def __init__(self, in_ch=3, classes=10, fc_in=64 * 5 * 5, p=0.0):
        super().__init__()
        self.fc_in = fc_in
        self.conv1 = nn.Conv2d(in_ch, 32, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.fc1 = nn.Linear(fc_in, 128)
        self.fc2 = nn.Linear(128, classes)
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, self.fc_in)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


# Step-1 gradients are recorded only for tensors this small, to keep the file small.
SMALL_GRAD = 4096


def gen_seedcnn(g):
    cases = []
    for name, in_ch, hw, fc_in, steps, final_all in [
        ("cifar_3x32x32", 3, 32, 64 * 5 * 5, 10, True),
        ("fashion_1x28x28", 1, 28, 64 * 4 * 4, 3, False),
    ]:
        c = Case(g, name, in_channels=in_ch, height=hw, width=hw, classes=10, batch=32, fc1_in=fc_in,
                 dropout=0.0, optimizer="Adam", lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0,
                 steps=steps, seed=0, loss="cross_entropy mean", final_params="all" if final_all else
                 "tensors with at most %d elements" % SMALL_GRAD)
        torch.manual_seed(0)
        m = SeedCNN(in_ch, 10, fc_in, 0.0)
        m.train()
        for k, v in m.state_dict().items():
            c.t(k, v)
        # Random in [0, 1) on the 8-bit grid k/256, like decoded pixels (and cheaper to store).
        x = torch.randint(0, 256, (32, in_ch, hw, hw)) / 256.0
        target = torch.randint(0, 10, (32,))
        c.t("x", x)
        c.t("target", target)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3, foreach=False)
        losses = []
        for t in range(steps):
            opt.zero_grad()
            y = m(x)
            loss = F.cross_entropy(y, target)
            loss.backward()
            if t == 0:
                c.t("y", y)
                for k, p in m.named_parameters():
                    if p.numel() <= SMALL_GRAD:
                        c.t("grad." + k, p.grad)
            losses.append(loss.item())
            opt.step()
        c.t("loss", torch.tensor(losses))
        for k, v in m.state_dict().items():
            if final_all or v.numel() <= SMALL_GRAD:
                c.t("final." + k, v)
        cases.append(c)
    return cases


# ---------------------------------------------------------------------------------------------
# Default initialisation (statistics only: torch's RNG stream cannot be matched)


def gen_init(g):
    cases = []
    layers = [
        ("linear_4_3", lambda: nn.Linear(4, 3), 4),
        ("linear_128_10", lambda: nn.Linear(128, 10), 128),
        ("linear_1600_128", lambda: nn.Linear(1600, 128), 1600),
        ("conv_3_32_k5", lambda: nn.Conv2d(3, 32, 5), 75),
        ("conv_32_64_k5", lambda: nn.Conv2d(32, 64, 5), 800),
        ("conv_8_8_k3_groups4", lambda: nn.Conv2d(8, 8, 3, groups=4), 18),
        ("conv_6_6_k3x2_depthwise", lambda: nn.Conv2d(6, 6, (3, 2), groups=6), 6),
        ("big_linear_1000_1000", lambda: nn.Linear(1000, 1000), 1000),
        ("big_conv_64_128_k3", lambda: nn.Conv2d(64, 128, 3), 576),
    ]
    for name, make, fan_in in layers:
        m = make()
        if isinstance(m, nn.Linear):
            attrs = dict(layer="Linear", in_features=m.in_features, out_features=m.out_features)
        else:
            attrs = dict(layer="Conv2d", in_channels=m.in_channels, out_channels=m.out_channels,
                         kernel_size=list(m.kernel_size), groups=m.groups)
        fi, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
        assert fi == fan_in, (name, fi)
        c = Case(g, name, fan_in=fan_in, weight_init="kaiming_uniform_(a=sqrt(5))",
                 bias_init="uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))", **attrs)
        m = make()  # drawn after the case's seed
        gain = math.sqrt(2.0 / (1 + 5))
        c.t("bound.weight", torch.tensor(gain * math.sqrt(3.0 / fan_in)))
        c.t("bound.bias", torch.tensor(1 / math.sqrt(fan_in)))
        if name.startswith("big_"):
            c.attrs["n_weight"] = m.weight.numel()
            c.attrs["n_bias"] = m.bias.numel()
            for k in ("weight", "bias"):
                v = getattr(m, k).detach().double()
                c.t(k + ".min", v.min())
                c.t(k + ".max", v.max())
                c.t(k + ".mean", v.mean())
                c.t(k + ".std", v.std())
        cases.append(c)
    c = Case(g, "batchnorm2d_8", layer="BatchNorm2d", num_features=8)
    for k, v in nn.BatchNorm2d(8).state_dict().items():
        if v.is_floating_point():
            c.t(k, v)
    cases.append(c)
    return cases


GROUPS = {
    "linear": gen_linear,
    "conv2d": gen_conv2d,
    "maxpool2d": gen_maxpool2d,
    "avgpool2d": gen_avgpool2d,
    "adaptiveavgpool2d": gen_adaptiveavgpool2d,
    "batchnorm": gen_batchnorm,
    "activations": gen_activations,
    "losses": gen_losses,
    "optim": gen_optim,
    "sched": gen_sched,
    "seedcnn": gen_seedcnn,
    "init": gen_init,
}


def main(argv):
    names = argv or list(GROUPS)
    for n in names:
        if n not in GROUPS:
            sys.exit("make.py: unknown group %r (want one of %s)" % (n, ", ".join(GROUPS)))
    for n in names:
        cases = GROUPS[n](n)
        path = dump(n, cases)
        print("%-18s %3d cases %9d bytes" % (n, len(cases), os.path.getsize(path)))


if __name__ == "__main__":
    main(sys.argv[1:])
