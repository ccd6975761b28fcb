// Runs kiln's ONNX exports in ONNX Runtime (the onnxruntime-node package)
// and compares the outputs with kiln's.
//
// Usage: node ort_check.js DIR
//
// DIR holds manifest.json (written by export/onnx's TestONNXRuntime) listing
// cases: an exported model, a batch of inputs and kiln's outputs for them,
// as raw little-endian float32 files. Every model is run on the CPU
// execution provider, once with ONNX Runtime's graph optimisations and once
// without (the optimiser fuses Conv+BatchNorm, Gemm+Relu and so on, so the
// two runs exercise different kernels), and must match kiln's outputs within
// |ort - kiln| <= 1e-4 + 1e-4 * |kiln|. The module is found through
// NODE_PATH or the usual node_modules lookup; exits 1 if any case fails.
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const ATOL = 1e-4;
const RTOL = 1e-4;

function readF32(file) {
  const buf = fs.readFileSync(file);
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

async function checkCase(root, c, level) {
  const session = await ort.InferenceSession.create(path.join(root, c.model), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: level,
  });
  const x = new ort.Tensor('float32', readF32(path.join(root, c.input)), c.input_shape);
  const t0 = process.hrtime.bigint();
  const result = await session.run({[session.inputNames[0]]: x});
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const y = result[session.outputNames[0]];
  const want = readF32(path.join(root, c.expected));
  if (JSON.stringify(Array.from(y.dims)) !== JSON.stringify(c.output_shape)) {
    return {ok: false, line: `output shape ${JSON.stringify(y.dims)}, kiln's ${JSON.stringify(c.output_shape)}`};
  }
  let worst = 0;
  let ok = true;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(y.data[i] - want[i]);
    if (!(d <= ATOL + RTOL * Math.abs(want[i]))) ok = false;  // also catches NaN
    worst = Math.max(worst, d);
  }
  await session.release();
  return {ok, line: `max|diff|=${worst.toExponential(2)} run=${ms.toFixed(2)}ms`};
}

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: node ort_check.js DIR');
    process.exit(2);
  }
  const root = process.argv[2];
  const cases = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8'));
  console.log(`onnxruntime-node ${ort.env.versions.node}, onnxruntime ${ort.env.versions.common}, node ${process.version}`);
  let failed = 0;
  for (const c of cases) {
    for (const level of ['all', 'disabled']) {
      let r;
      try {
        r = await checkCase(root, c, level);
      } catch (e) {
        r = {ok: false, line: `ERROR ${e.message}`};
      }
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(22)} opt=${level.padEnd(8)} ${r.line}`);
      if (!r.ok) failed++;
    }
  }
  console.log(`${2 * cases.length - failed} of ${2 * cases.length} runs passed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
