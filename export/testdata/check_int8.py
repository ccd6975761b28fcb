#!/usr/bin/python3
"""Check kiln's int8 ONNX exports with ONNX's checker.

Usage: check_int8.py MODEL...

Runs onnx.checker.check_model(model, full_check=True) (which also runs
strict shape inference) on every model, and checks that the graph is in
the QDQ form: opset 13, int8 weights dequantised per output channel
(axis 0), int32 biases. Prints one line per model; exits 1 if any fails.
Needs only onnx (Debian: python3-onnx).
"""

import sys

import onnx
from onnx import TensorProto


def check(path):
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    opset = {o.domain: o.version for o in m.opset_import}
    assert opset.get("", 0) == 13, f"opset {opset}"
    inits = {t.name: t for t in m.graph.initializer}
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
        if n.op_type in ("Conv", "Gemm"):
            for i, want in zip(n.input[1:3], (TensorProto.INT8, TensorProto.INT32)):
                dq = next(d for d in m.graph.node if i in d.output)
                assert dq.op_type == "DequantizeLinear", f"{n.name} reads {dq.op_type}"
                t = inits[dq.input[0]]
                assert t.data_type == want, f"{n.name}: {t.name} has type {t.data_type}"
                axis = [a.i for a in dq.attribute if a.name == "axis"]
                assert axis == [0], f"{dq.name}: axis {axis}"
    assert ops.get("QuantizeLinear", 0) > 0 and ops.get("DequantizeLinear", 0) > 0, ops
    return ops


def main():
    failed = 0
    for path in sys.argv[1:]:
        try:
            ops = check(path)
            print(f"ok   {path} {sorted(ops.items())}")
        except Exception as e:  # noqa: BLE001, reported and counted
            print(f"FAIL {path}: {e}")
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
