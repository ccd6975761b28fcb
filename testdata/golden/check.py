#!/usr/bin/python3
"""Re-derive the golden files from their own contents: read each case's inputs and attrs
(only what a Go test sees), call torch again, and compare with the recorded outputs.

    /usr/bin/python3 testdata/golden/check.py

This proves that the attrs are complete and named as the contract says, and that recorded
inputs were not changed in place after they were recorded. It leaves out seedcnn's training
run (make.py's own code path) beyond its first forward pass, and init (statistics only).
"""
import gzip
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)
failures = 0


def load(group):
    p = os.path.join(HERE, group + ".json")
    if os.path.exists(p):
        return json.load(open(p))
    return json.load(gzip.open(p + ".gz"))


def T(c, k):
    v = c["tensors"][k]
    return torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"])


def same(where, got, want, rtol=1e-5, atol=1e-6):
    global failures
    got = got.detach().to(torch.float32)
    if got.shape != want.shape or not torch.allclose(got, want, rtol=rtol, atol=atol):
        failures += 1
        err = (got - want).abs().max().item() if got.shape == want.shape else "shape %s vs %s" % (
            list(got.shape), list(want.shape))
        print("MISMATCH %s: %s" % (where, err))


def grads(c, fn, names):
    """Forward fn on the recorded tensors `names` (with grad), backward sum(y*dy), compare."""
    ins = {k: T(c, k).requires_grad_(True) for k in names if k in c["tensors"]}
    y = fn(ins)
    same(c["name"] + " y", y, T(c, "y"))
    if y.shape != T(c, "y").shape:
        return
    (y * T(c, "dy")).sum().backward()
    for k, v in ins.items():
        if "grad." + k in c["tensors"]:
            same(c["name"] + " grad." + k, v.grad, T(c, "grad." + k))


def check_layers():
    for c in load("linear")["cases"]:
        grads(c, lambda t: F.linear(t["x"], t["weight"], t.get("bias")), ["x", "weight", "bias"])
    for c in load("conv2d")["cases"]:
        a = c["attrs"]
        grads(c, lambda t: F.conv2d(t["x"], t["weight"], t.get("bias"), a["stride"], a["padding"],
                                    a["dilation"], a["groups"]), ["x", "weight", "bias"])
    for c in load("maxpool2d")["cases"]:
        a = c["attrs"]
        grads(c, lambda t: F.max_pool2d(t["x"], a["kernel_size"], a["stride"], a["padding"], a["dilation"],
                                        a["ceil_mode"]), ["x"])
    for c in load("avgpool2d")["cases"]:
        a = c["attrs"]
        grads(c, lambda t: F.avg_pool2d(t["x"], a["kernel_size"], a["stride"], a["padding"], a["ceil_mode"],
                                        a["count_include_pad"]), ["x"])
    for c in load("adaptiveavgpool2d")["cases"]:
        grads(c, lambda t: F.adaptive_avg_pool2d(t["x"], c["attrs"]["output_size"]), ["x"])
    for c in load("batchnorm")["cases"]:
        a = c["attrs"]
        rm, rv = T(c, "running_mean"), T(c, "running_var")
        grads(c, lambda t: F.batch_norm(t["x"], rm, rv, t.get("weight"), t.get("bias"), a["training"],
                                        a["momentum"], a["eps"]), ["x", "weight", "bias"])
        same(c["name"] + " after.running_mean", rm, T(c, "after.running_mean"))
        same(c["name"] + " after.running_var", rv, T(c, "after.running_var"))


def check_activations():
    ops = {
        "relu": lambda x, a: F.relu(x),
        "leaky_relu": lambda x, a: F.leaky_relu(x, a["negative_slope"]),
        "sigmoid": lambda x, a: torch.sigmoid(x),
        "tanh": lambda x, a: torch.tanh(x),
        "gelu": lambda x, a: F.gelu(x, approximate=a["approximate"]),
        "softmax": lambda x, a: F.softmax(x, a["dim"]),
        "log_softmax": lambda x, a: F.log_softmax(x, a["dim"]),
        "logsumexp": lambda x, a: torch.logsumexp(x, a["dim"], a["keepdim"]),
        "flatten": lambda x, a: torch.flatten(x, a["start_dim"], a["end_dim"]),
    }
    for c in load("activations")["cases"]:
        a = c["attrs"]
        grads(c, lambda t: ops[a["op"]](t["x"], a), ["x"])


def check_losses():
    for c in load("losses")["cases"]:
        a = c["attrs"]
        op, red = a["op"], a["reduction"]

        def fn(t):
            x, w = t["x"], c["tensors"].get("weight") and T(c, "weight")
            tgt = T(c, "target")
            if op == "cross_entropy":
                if a["target_kind"] == "index":
                    tgt = tgt.long()
                return F.cross_entropy(x, tgt, weight=w, ignore_index=a["ignore_index"], reduction=red,
                                       label_smoothing=a["label_smoothing"])
            if op == "nll_loss":
                return F.nll_loss(x, tgt.long(), weight=w, ignore_index=a["ignore_index"], reduction=red)
            if op == "mse_loss":
                return F.mse_loss(x, tgt, reduction=red)
            pw = T(c, "pos_weight") if "pos_weight" in c["tensors"] else None
            return F.binary_cross_entropy_with_logits(x, tgt, weight=w, pos_weight=pw, reduction=red)

        grads(c, fn, ["x"])


def check_optim():
    for c in load("optim")["cases"]:
        a = dict(c["attrs"])
        op = a.pop("op")
        if op == "clip_grad_norm_":
            ps = []
            for i in range(a["n_tensors"]):
                p = torch.nn.Parameter(torch.zeros(T(c, "g%d" % i).shape))
                p.grad = T(c, "g%d" % i)
                ps.append(p)
            nt = math.inf if a["norm_type"] == "inf" else a["norm_type"]
            total = torch.nn.utils.clip_grad_norm_(ps, a["max_norm"], nt)
            same(c["name"] + " total_norm", total, T(c, "total_norm"))
            for i, p in enumerate(ps):
                same(c["name"] + " clipped.g%d" % i, p.grad, T(c, "clipped.g%d" % i))
            continue
        steps = a.pop("steps")
        a.pop("loss")
        ps = [torch.nn.Parameter(T(c, "p0")), torch.nn.Parameter(T(c, "p1"))]
        opt = getattr(torch.optim, op)(ps, **a)
        for t in range(1, steps + 1):
            for i, p in enumerate(ps):
                p.grad = T(c, "step%d.grad.p%d" % (t, i))
            opt.step()
            for i, p in enumerate(ps):
                same("%s step%d.p%d" % (c["name"], t, i), p, T(c, "step%d.p%d" % (t, i)), 1e-6, 1e-7)


def check_sched():
    S = torch.optim.lr_scheduler
    for c in load("sched")["cases"]:
        a = dict(c["attrs"])
        op, optname, lr0, steps = a.pop("op"), a.pop("optimizer"), a.pop("optimizer_lr"), a.pop("steps")
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=lr0, momentum=0.9) if optname == "SGD" else torch.optim.Adam([p], lr=lr0)
        s = getattr(S, op)(opt, **a)
        lrs = []
        for _ in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            s.step()
        same(c["name"] + " lr", torch.tensor(lrs), T(c, "lr"), 1e-6, 0)


def check_seedcnn():
    for c in load("seedcnn")["cases"]:
        x = T(c, "x")
        h = F.max_pool2d(F.relu(F.conv2d(x, T(c, "conv1.weight"), T(c, "conv1.bias"))), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, T(c, "conv2.weight"), T(c, "conv2.bias"))), 2)
        h = F.relu(F.linear(h.flatten(1), T(c, "fc1.weight"), T(c, "fc1.bias")))
        y = F.linear(h, T(c, "fc2.weight"), T(c, "fc2.bias"))
        same(c["name"] + " y", y, T(c, "y"))
        same(c["name"] + " loss[0]", F.cross_entropy(y, T(c, "target").long()).reshape(1), T(c, "loss")[:1])


for f in (check_layers, check_activations, check_losses, check_optim, check_sched, check_seedcnn):
    f()
print("check.py: %d mismatches" % failures)
sys.exit(1 if failures else 0)
