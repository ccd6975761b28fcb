// Runs kiln's int8 ONNX exports in ONNX Runtime (onnxruntime-node) and
// writes the outputs for export's TestInt8ONNXRuntime to compare with
// kiln's int8 run.
//
// Usage: node ort_int8.js DIR
//
// DIR holds manifest.json: cases {name, model, input, input_shape}. Each
// model runs on the CPU execution provider with all graph optimisations
// (ONNX Runtime fuses the QDQ groups into QLinearConv and QGemm, and saves
// the optimised model as <name>.opt.onnx) and with none (DequantizeLinear
// and float kernels), writing <name>.all.f32 and <name>.disabled.f32 as
// raw little-endian float32. The module is found through NODE_PATH.
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function readF32(file) {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4).slice();
}

async function main() {
  const root = process.argv[2];
  const cases = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8'));
  console.log(`onnxruntime ${ort.env.versions.common}, node ${process.version}`);
  for (const c of cases) {
    for (const level of ['all', 'disabled']) {
      const opts = {executionProviders: ['cpu'], graphOptimizationLevel: level};
      if (level === 'all') opts.optimizedModelFilePath = path.join(root, `${c.name}.opt.onnx`);
      const session = await ort.InferenceSession.create(path.join(root, c.model), opts);
      const x = new ort.Tensor('float32', readF32(path.join(root, c.input)), c.input_shape);
      const t0 = process.hrtime.bigint();
      const result = await session.run({[session.inputNames[0]]: x});
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const y = result[session.outputNames[0]];
      fs.writeFileSync(path.join(root, `${c.name}.${level}.f32`), Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
      console.log(`${c.name} opt=${level} dims=${JSON.stringify(y.dims)} run=${ms.toFixed(2)}ms`);
      await session.release();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
