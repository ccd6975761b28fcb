package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEvalPredictDevice: kiln eval and kiln predict with --device
// cpu-backend print what the engine's path prints, byte for byte: the same
// accuracy, loss (all digits of the JSON), confusion matrix, classes and
// probabilities.
func TestEvalPredictDevice(t *testing.T) {
	runDir, sample := trainTiny(t, "dev")
	images, _ := filepath.Glob(filepath.Join(filepath.Dir(sample), "*.png"))
	images = images[:min(len(images), 5)]
	outputs := map[string][2]string{}
	for _, dev := range []string{"cpu", "cpu-backend"} {
		code, ev, stderr := kiln(t, context.Background(), "eval", "--json", "--device", dev, runDir)
		if code != 0 {
			t.Fatalf("eval --device %s: status %d\n%s", dev, code, stderr)
		}
		code, pr, stderr := kiln(t, context.Background(), append([]string{"predict", "--json", "--top-k", "6", "--device", dev, runDir}, images...)...)
		if code != 0 {
			t.Fatalf("predict --device %s: status %d\n%s", dev, code, stderr)
		}
		outputs[dev] = [2]string{ev, pr}
	}
	var rep evalReport
	if err := json.Unmarshal([]byte(outputs["cpu"][0]), &rep); err != nil || rep.Images != 24 || rep.Loss <= 0 {
		t.Fatalf("eval --json: %v %+v", err, rep)
	}
	if a, b := outputs["cpu"][0], outputs["cpu-backend"][0]; a != b {
		t.Errorf("eval differs:\n--device cpu:\n%s\n--device cpu-backend:\n%s", a, b)
	}
	var res []imageResult
	if err := json.Unmarshal([]byte(outputs["cpu"][1]), &res); err != nil || len(res) != len(images) || len(res[0].Predictions) != 6 {
		t.Fatalf("predict --json: %v %+v", err, res)
	}
	if a, b := outputs["cpu"][1], outputs["cpu-backend"][1]; a != b {
		t.Errorf("predict differs:\n--device cpu:\n%s\n--device cpu-backend:\n%s", a, b)
	}
}

// TestServeDevice serves a run with --device cpu-backend and requires
// the v2 logits of a batch to be the engine's (kiln serve without
// --device), to the bit.
func TestServeDevice(t *testing.T) {
	runDir, _ := trainTiny(t, "devserve")
	x := make([]float32, 3*16*16)
	for i := range x {
		x[i] = float32(i%37)/18 - 1
	}
	body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "input", "datatype": "FP32", "shape": []int{3, 1, 16, 16}, "data": x}}})
	logits := map[string]string{}
	for _, dev := range []string{"cpu", "cpu-backend"} {
		url, stop := startServe(t, "--device", dev, "m="+runDir)
		resp, err := http.Post(url+"/v2/models/m/infer", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"shape":[3,6]`)) {
			t.Fatalf("--device %s: %d %s", dev, resp.StatusCode, b)
		}
		logits[dev] = string(b)
		if code, out := stop(); code != 0 {
			t.Fatalf("--device %s: status %d\n%s", dev, code, out)
		}
	}
	if logits["cpu"] != logits["cpu-backend"] {
		t.Errorf("served logits differ:\n%s\n%s", logits["cpu"], logits["cpu-backend"])
	}
}

// TestBenchDevice: kiln bench --device cpu-backend times the seed CNN's
// training and inference on the device path at the batches asked for.
func TestBenchDevice(t *testing.T) {
	code, stdout, stderr := kiln(t, context.Background(), "bench", "--device", "cpu-backend", "--images", "16", "--train-batch", "8", "--infer-batch", "16")
	if code != 0 {
		t.Fatalf("status %d\n%s", code, stderr)
	}
	for _, want := range []string{"kiln bench --device cpu-backend", "seed CNN training, batch 8, Adam:", "seed CNN inference, batch 16:", "latency, batch 1:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "SGEMM") {
		t.Errorf("the device bench prints the CPU's SGEMM:\n%s", stdout)
	}
}

// TestInferDeviceRefused: the inference commands refuse --device as kiln
// train does: a kiln without CUDA at once with the build command, an
// unknown device, and bench's CPU-only flags, all exit 2.
func TestInferDeviceRefused(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	cases := [][]string{
		{"eval", "--device", "tpu", missing},
		{"predict", "--device", "tpu", missing, "x.png"},
		{"serve", "--device", "tpu", missing},
		{"bench", "--device", "tpu"},
		{"bench", "--device", "cpu-backend", "--threads", "1"},
		{"eval", "--tf32", missing},
		{"predict", "--device", "cpu-backend", "--tf32", missing, "x.png"},
		{"serve", "--tf32", missing},
		{"bench", "--tf32"},
	}
	if cudaBuilt {
		// A CUDA kiln: without a GPU the library not found is named;
		// with one, the missing run is.
		code, _, stderr := kiln(t, context.Background(), "eval", "--device", "cuda", missing)
		if code != 1 || !(strings.Contains(stderr, "not found") && strings.Contains(stderr, "libcuda")) && !strings.Contains(stderr, missing) {
			t.Errorf("eval --device cuda in a CUDA kiln: status %d\n%s", code, stderr)
		}
	} else {
		cases = append(cases, []string{"eval", "--device", "cuda", missing}, []string{"predict", "--device", "cuda", missing, "x.png"},
			[]string{"serve", "--device", "cuda", missing}, []string{"bench", "--device", "cuda"})
	}
	for _, args := range cases {
		code, _, stderr := kiln(t, context.Background(), args...)
		want := `--device "tpu": want cpu, cpu-backend or cuda`
		switch {
		case slices.Contains(args, "--tf32"):
			want = "--tf32: TF32 is a mode of NVIDIA tensor cores; it needs --device cuda"
		case args[2] == "cuda":
			want = "go build -tags cuda ./cmd/kiln"
		case len(args) > 3 && args[3] == "--threads":
			want = "--data and --threads time the CPU"
		}
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("%v: status %d, want 2 and %q\n%s", args, code, want, stderr)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("%v created %s", args, missing)
		}
	}
}
