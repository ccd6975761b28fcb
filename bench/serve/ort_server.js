// ort_server.js serves an ONNX model with ONNX Runtime (onnxruntime-node)
// behind Node's http module, answering the same Open Inference Protocol v2
// requests as kiln serve (POST /v2/models/NAME/infer, one FP32 input),
// one session.run per request: the usual "runtime behind a web framework"
// deployment, for bench/serve's side-by-side rows. Loopback only.
//
//   NODE_PATH=$ORT_DIR/node_modules node bench/serve/ort_server.js MODEL.onnx PORT [THREADS]
//
// It prints "listening on http://127.0.0.1:PORT" when ready.
'use strict';
const http = require('http');
const ort = require('onnxruntime-node');

async function main() {
  const [model, port, threads] = process.argv.slice(2);
  if (!model || !port) {
    console.error('usage: node ort_server.js MODEL.onnx PORT [THREADS]');
    process.exit(2);
  }
  const opts = threads ? { intraOpNumThreads: Number(threads), interOpNumThreads: 1 } : {};
  const session = await ort.InferenceSession.create(model, opts);
  const input = session.inputNames[0], output = session.outputNames[0];
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || !/^\/v2\/models\/[^/]+\/infer$/.test(req.url)) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"error":"not found"}');
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const inp = body.inputs[0];
        const x = new ort.Tensor('float32', Float32Array.from(inp.data.flat(Infinity)), inp.shape);
        const out = (await session.run({ [input]: x }))[output];
        const logits = Array.from(out.data);
        const k = out.dims[1];
        const probs = [];
        for (let r = 0; r < logits.length; r += k) {
          const row = logits.slice(r, r + k), hi = Math.max(...row);
          const e = row.map((v) => Math.exp(v - hi)), s = e.reduce((a, b) => a + b, 0);
          probs.push(...e.map((v) => v / s));
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ model_name: 'ort', outputs: [
          { name: 'logits', datatype: 'FP32', shape: out.dims, data: logits },
          { name: 'probabilities', datatype: 'FP32', shape: out.dims, data: probs }] }));
      } catch (e) {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: String(e) }));
      }
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(Number(port), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
}
main().catch((e) => { console.error(e); process.exit(1); });
