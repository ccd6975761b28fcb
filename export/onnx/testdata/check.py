#!/usr/bin/python3
"""Check kiln's ONNX exports with ONNX's own tools.

Usage: check.py DIR

DIR holds manifest.json (written by export/onnx's TestONNXChecker) listing
cases: an exported model, a batch of inputs and kiln's outputs for them, as
raw little-endian float32 files. For every case this script

  1. runs onnx.checker.check_model(model, full_check=True), which also runs
     strict shape inference, and checks the inferred output shape keeps the
     symbolic batch dimension;
  2. evaluates the model on the inputs, with onnx.reference.ReferenceEvaluator
     when this onnx has it (onnx >= 1.13) and otherwise with the small NumPy
     evaluator below, written from the ONNX operator specification for the
     operators kiln exports (opset 13);
  3. compares the outputs with kiln's: |onnx - kiln| <= 1e-4 + 1e-4 * |kiln|.

It prints one line per case and exits 1 if any case fails. It needs only
onnx and numpy (Debian: python3-onnx).
"""

import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

ATOL = 1e-4
RTOL = 1e-4


# ---------------------------------------------------------------------------
# A NumPy evaluator for the opset-13 operators kiln exports. Computation is
# in float64, so it is a reference for float32 runtimes, not a copy of one.


def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pad_nchw(x, pads, value):
    """Pads (N, C, H, W) by ONNX pads [h_begin, w_begin, h_end, w_end]."""
    hb, wb, he, we = pads
    return np.pad(x, ((0, 0), (0, 0), (hb, he), (wb, we)), constant_values=value)


def windows(x, kernel, strides, dilations):
    """Yields (kh, kw, view) where view[n, c, i, j] is the (kh, kw) tap of
    output window (i, j) of the already padded x, in floor mode."""
    _, _, h, w = x.shape
    eh = dilations[0] * (kernel[0] - 1) + 1
    ew = dilations[1] * (kernel[1] - 1) + 1
    oh = (h - eh) // strides[0] + 1
    ow = (w - ew) // strides[1] + 1
    for kh in range(kernel[0]):
        for kw in range(kernel[1]):
            h0 = kh * dilations[0]
            w0 = kw * dilations[1]
            yield kh, kw, x[:, :, h0:h0 + strides[0] * (oh - 1) + 1:strides[0],
                            w0:w0 + strides[1] * (ow - 1) + 1:strides[1]]


def op_conv(x, w, b=None, **a):
    kernel = a.get("kernel_shape", list(w.shape[2:]))
    strides = a.get("strides", [1, 1])
    dil = a.get("dilations", [1, 1])
    group = a.get("group", 1)
    xp = pad_nchw(x, a.get("pads", [0, 0, 0, 0]), 0.0)
    oc, icg = w.shape[0], w.shape[1]
    ocg = oc // group
    out = None
    for kh, kw, v in windows(xp, kernel, strides, dil):
        parts = []
        for g in range(group):
            vg = v[:, g * icg:(g + 1) * icg]  # (N, icg, OH, OW)
            wg = w[g * ocg:(g + 1) * ocg, :, kh, kw]  # (ocg, icg)
            parts.append(np.einsum("nchw,oc->nohw", vg, wg))
        term = np.concatenate(parts, axis=1)
        out = term if out is None else out + term
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


def op_maxpool(x, **a):
    if a.get("ceil_mode", 0):
        raise NotImplementedError("MaxPool ceil_mode")
    xp = pad_nchw(x, a.get("pads", [0, 0, 0, 0]), -np.inf)
    out = None
    for _, _, v in windows(xp, a["kernel_shape"], a.get("strides", [1, 1]), a.get("dilations", [1, 1])):
        out = v.copy() if out is None else np.maximum(out, v)
    return out


def op_averagepool(x, **a):
    if a.get("ceil_mode", 0):
        raise NotImplementedError("AveragePool ceil_mode")
    pads = a.get("pads", [0, 0, 0, 0])
    kernel, strides = a["kernel_shape"], a.get("strides", [1, 1])
    xp = pad_nchw(x, pads, 0.0)
    ones = pad_nchw(np.ones((1, 1) + x.shape[2:]), pads, 0.0)
    total, count = None, None
    for _, _, v in windows(xp, kernel, strides, [1, 1]):
        total = v.copy() if total is None else total + v
    for _, _, v in windows(ones, kernel, strides, [1, 1]):
        count = v.copy() if count is None else count + v
    if a.get("count_include_pad", 0):
        return total / (kernel[0] * kernel[1])
    return total / count


def op_gemm(a_, b_, c=None, **a):
    if a.get("transA", 0):
        a_ = a_.T
    if a.get("transB", 0):
        b_ = b_.T
    y = a.get("alpha", 1.0) * (a_ @ b_)
    if c is not None:
        y = y + a.get("beta", 1.0) * c
    return y


def op_batchnorm(x, scale, bias, mean, var, **a):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    eps = a.get("epsilon", 1e-5)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * scale.reshape(shape) + bias.reshape(shape)


def op_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def op_logsoftmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def op_flatten(x, axis=1):
    lead = int(np.prod(x.shape[:axis]))
    return x.reshape(lead, -1) if x.size else x.reshape(lead, 0)


def op_reshape(x, shape, **a):
    target = [x.shape[i] if d == 0 else int(d) for i, d in enumerate(shape)]
    return x.reshape(target)


OPS = {
    "Conv": op_conv,
    "MaxPool": op_maxpool,
    "AveragePool": op_averagepool,
    "GlobalAveragePool": lambda x: x.mean(axis=(2, 3), keepdims=True),
    "Gemm": op_gemm,
    "MatMul": lambda a, b: a @ b,
    "Transpose": lambda x, perm=None: np.transpose(x, perm),
    "Add": lambda a, b: a + b,
    "Mul": lambda a, b: a * b,
    "Relu": lambda x: np.maximum(x, 0),
    "LeakyRelu": lambda x, alpha=0.01: np.where(x > 0, x, alpha * x),
    "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "Tanh": np.tanh,
    "Erf": np.vectorize(math.erf, otypes=[np.float64]),
    "BatchNormalization": op_batchnorm,
    "Softmax": op_softmax,
    "LogSoftmax": op_logsoftmax,
    "Flatten": op_flatten,
    "Reshape": op_reshape,
    "Identity": lambda x: x,
}


def numpy_eval(model, feeds):
    g = model.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    env = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in env.items()}
    env.update({k: v.astype(np.float64) for k, v in feeds.items()})
    for node in g.node:
        if node.domain not in ("", "ai.onnx"):
            raise NotImplementedError("domain " + node.domain)
        fn = OPS.get(node.op_type)
        if fn is None:
            raise NotImplementedError("operator " + node.op_type)
        args = [env[i] if i else None for i in node.input]
        env[node.output[0]] = fn(*args, **attrs_of(node))
    return [env[o.name] for o in g.output]


def evaluate(model, feeds):
    try:
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        return "numpy evaluator", numpy_eval(model, feeds)
    return "onnx.reference", ReferenceEvaluator(model).run(None, feeds)


# ---------------------------------------------------------------------------


def read_f32(path, shape):
    data = np.fromfile(path, dtype="<f4")
    return data.reshape(shape)


def dims_of(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_param if d.HasField("dim_param") else (d.dim_value if d.HasField("dim_value") else "?"))
    return out


def check_case(root, case):
    path = os.path.join(root, case["model"])
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    out_dims = dims_of(inferred.graph.output[0])
    in_dims = dims_of(model.graph.input[0])
    if in_dims[0] != "N" or (case["symbolic_batch"] and out_dims[0] != "N"):
        raise AssertionError("batch dimension not symbolic: input %s, output %s" % (in_dims, out_dims))
    x = read_f32(os.path.join(root, case["input"]), case["input_shape"])
    want = read_f32(os.path.join(root, case["expected"]), case["output_shape"])
    how, outs = evaluate(model, {model.graph.input[0].name: x})
    got = np.asarray(outs[0])
    if list(got.shape) != list(want.shape):
        raise AssertionError("output shape %s, kiln's %s" % (list(got.shape), list(want.shape)))
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    worst = float(diff.max()) if diff.size else 0.0
    ok = bool(np.all(diff <= ATOL + RTOL * np.abs(want)))
    ops = sorted({n.op_type for n in model.graph.node})
    return ok, "%-24s %-16s nodes=%-3d out=%s max|diff|=%.3g  ops=%s" % (
        case["name"], how, len(model.graph.node), out_dims, worst, ",".join(ops))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check.py DIR")
    root = sys.argv[1]
    with open(os.path.join(root, "manifest.json")) as f:
        cases = json.load(f)
    print("onnx %s, numpy %s" % (onnx.__version__, np.__version__))
    failed = 0
    for case in cases:
        try:
            ok, line = check_case(root, case)
        except Exception as e:  # report every case, then fail
            ok, line = False, "%-24s ERROR %s: %s" % (case["name"], type(e).__name__, e)
        print(("ok   " if ok else "FAIL ") + line)
        failed += not ok
    print("%d of %d cases passed" % (len(cases) - failed, len(cases)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
