package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/checkpoint"
)

// TestTrainDeviceCPUBackend trains one epoch on the embedded set on the
// engine's path and on the device path over the CPU backend: the weights
// (last and best) and the metrics are the same to the bit.
func TestTrainDeviceCPUBackend(t *testing.T) {
	model := "seed-cnn"
	if testing.Short() {
		model = "mlp"
	}
	out := t.TempDir()
	for _, dev := range []string{"cpu", "cpu-backend"} {
		code, _, stderr := kiln(t, context.Background(), "train", "--model", model, "--epochs", "1", "--batch-size", "64",
			"--device", dev, "--out", out, "--name", dev, "--workers", "2")
		if code != 0 {
			t.Fatalf("--device %s: status %d\n%s", dev, code, stderr)
		}
	}
	sameRun(t, filepath.Join(out, "cpu"), filepath.Join(out, "cpu-backend"))
	cfg, err := os.ReadFile(filepath.Join(out, "cpu-backend", "config.json"))
	if err != nil || !strings.Contains(string(cfg), `"device": "cpu-backend"`) {
		t.Fatalf("config.json does not record the device: %s %v", cfg, err)
	}
}

// sameRun requires two runs' weights (last and best, buffers included)
// to be the same bits and their metrics the same but for the time.
func sameRun(t *testing.T, dirA, dirB string) {
	t.Helper()
	for _, f := range []string{"last.safetensors", "best.safetensors", "metrics.csv"} {
		a, err := os.ReadFile(filepath.Join(dirA, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dirB, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".csv") {
			// The time column differs; the figures must not.
			a, b = dropColumn(a, "seconds"), dropColumn(b, "seconds")
		} else {
			fa, err := checkpoint.Decode(a)
			if err != nil {
				t.Fatal(err)
			}
			fb, err := checkpoint.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(fa.Tensors) == 0 || len(fa.Tensors) != len(fb.Tensors) {
				t.Fatalf("%s: %d and %d tensors", f, len(fa.Tensors), len(fb.Tensors))
			}
			for name, ta := range fa.Tensors {
				tb, ok := fb.Tensors[name]
				if !ok || len(ta.Data) != len(tb.Data) {
					t.Fatalf("%s: tensor %s missing or resized on cpu-backend", f, name)
				}
				for i, v := range ta.Data {
					if math.Float32bits(v) != math.Float32bits(tb.Data[i]) {
						t.Fatalf("%s: %s[%d] = %v on --device cpu, %v on cpu-backend", f, name, i, v, tb.Data[i])
					}
				}
			}
			continue
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs:\n%s\n%s", f, a, b)
		}
	}
}

// TestTrainDeviceResNet trains resnet8 (batch normalisation, residual
// sums, global average pooling) with gradient clipping for two epochs on
// a small image folder both ways: the same bits, running statistics
// included.
func TestTrainDeviceResNet(t *testing.T) {
	data, _ := tinyData(t)
	out := t.TempDir()
	for _, dev := range []string{"cpu", "cpu-backend"} {
		code, _, stderr := kiln(t, context.Background(), "train", "--model", "resnet8", "--data", data, "--image-size", "16", "--channels", "1",
			"--epochs", "2", "--batch-size", "16", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.05", "--clip-norm", "0.5",
			"--device", dev, "--out", out, "--name", dev, "--workers", "2")
		if code != 0 {
			t.Fatalf("--device %s: status %d\n%s", dev, code, stderr)
		}
	}
	sameRun(t, filepath.Join(out, "cpu"), filepath.Join(out, "cpu-backend"))
}

// dropColumn removes the named column of a CSV file.
func dropColumn(csv []byte, name string) []byte {
	lines := strings.Split(string(csv), "\n")
	col := -1
	for i, h := range strings.Split(lines[0], ",") {
		if h == name {
			col = i
		}
	}
	if col < 0 {
		return csv
	}
	for i, l := range lines {
		f := strings.Split(l, ",")
		if col < len(f) {
			lines[i] = strings.Join(append(f[:col:col], f[col+1:]...), ",")
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// TestTrainDeviceRefused: --device cuda in a kiln built without CUDA
// fails at once (exit 2, before any data are read) saying how to build
// one; an unknown device and --tf32 off CUDA are refused too.
func TestTrainDeviceRefused(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := kiln(t, context.Background(), "train", "--device", "cuda", "--data", filepath.Join(out, "missing"), "--out", out)
	if cudaBuilt {
		t.Skip("this kiln has the CUDA backend")
	}
	if code != 2 || !strings.Contains(stderr, "built without the cuda backend") || !strings.Contains(stderr, "go build -tags cuda ./cmd/kiln") {
		t.Fatalf("--device cuda: status %d\n%s", code, stderr)
	}
	code, _, stderr = kiln(t, context.Background(), "train", "--device", "tpu", "--out", out)
	if code != 2 || !strings.Contains(stderr, `--device "tpu"`) {
		t.Fatalf("--device tpu: status %d\n%s", code, stderr)
	}
	for _, dev := range []string{"cpu", "cpu-backend"} {
		code, _, stderr = kiln(t, context.Background(), "train", "--device", dev, "--tf32", "--epochs", "1", "--out", out)
		if code != 2 || !strings.Contains(stderr, "--tf32: TF32 is a mode of NVIDIA tensor cores; it needs --device cuda") {
			t.Fatalf("--device %s --tf32: status %d\n%s", dev, code, stderr)
		}
	}
}

// TestTrainDeviceRMSprop: RMSprop with momentum and weight decay runs on
// the device path and gives the engine's bits.
func TestTrainDeviceRMSprop(t *testing.T) {
	out := t.TempDir()
	for _, dev := range []string{"cpu", "cpu-backend"} {
		code, _, stderr := kiln(t, context.Background(), "train", "--model", "mlp", "--epochs", "1", "--batch-size", "128",
			"--optimizer", "rmsprop", "--lr", "1e-3", "--momentum", "0.5", "--weight-decay", "1e-4",
			"--device", dev, "--out", out, "--name", dev, "--workers", "2")
		if code != 0 {
			t.Fatalf("--device %s: status %d\n%s", dev, code, stderr)
		}
	}
	sameRun(t, filepath.Join(out, "cpu"), filepath.Join(out, "cpu-backend"))
}
