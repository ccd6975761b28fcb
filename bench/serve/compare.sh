#!/bin/sh
# compare.sh RUN [ORT_DIR]: bench/serve's rows for kiln serve (float32 and,
# when RUN/int8.safetensors exists, int8) and, with ORT_DIR (a directory
# holding node_modules/onnxruntime-node), ONNX Runtime behind Node's http
# on RUN/model.onnx (kiln export RUN), all on this machine, one after the
# other. Loopback only; each row is bounded by --requests and --duration.
set -eu
run=$1
ort=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
go build -o /tmp/kiln-bench-serve ./bench/serve
if [ -n "$ort" ]; then
  [ -f "$run/model.onnx" ] || go run ./cmd/kiln export "$run"
  port=18931
  NODE_PATH="$ort/node_modules" node bench/serve/ort_server.js "$run/model.onnx" $port > /tmp/kiln-ort-server.log 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null' EXIT
  for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q listening /tmp/kiln-ort-server.log && break; sleep 1; done
  echo "== ONNX Runtime $(node -e "console.log(require('$ort/node_modules/onnxruntime-node/package.json').version)") (onnxruntime-node, one session.run per request)"
  /tmp/kiln-bench-serve --url "http://127.0.0.1:$port/v2/models/fm/infer"
fi
echo "== kiln serve, float32"
/tmp/kiln-bench-serve --run "$run"
if [ -f "$run/int8.safetensors" ]; then
  echo "== kiln serve, int8"
  /tmp/kiln-bench-serve --run "$run" --checkpoint int8
fi
