//go:build cuda

package main

// This file runs kiln's commands with --device cuda on the CUDA emulator
// (KILN_CUDA_EMULATOR=1; internal/cuda/cudaemu): training against
// --device cpu, with and without --tf32, evaluation and the benchmark.

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/internal/cuda/cudaemu"
)

// TestMain puts the CUDA emulator first on the library path when
// KILN_CUDA_EMULATOR=1, before any command loads CUDA.
func TestMain(m *testing.M) { os.Exit(cudaemu.Main(m, nil)) }

// TestCUDAEmuTrain trains the mlp and the seed CNN for two epochs of the
// tiny image folder on --device cpu and on --device cuda (and with
// --tf32): the run directories hold the same files, and every epoch's
// losses and accuracies agree (1e-3 of the loss, a twelfth of the
// accuracy: a near-tie may go the other way; TF32 five times looser).
func TestCUDAEmuTrain(t *testing.T) {
	cudaemu.Need(t)
	data, _ := tinyData(t)
	for _, model := range []string{"mlp", "seed-cnn"} {
		out := t.TempDir()
		for _, dev := range [][]string{{"cpu"}, {"cuda"}, {"cuda", "--tf32"}} {
			name := strings.Join(dev, "")
			args := []string{"train", "--model", model, "--data", data, "--image-size", "16", "--channels", "1", "--epochs", "2",
				"--batch-size", "16", "--workers", "2", "--seed", "3", "--out", out, "--name", name, "--device"}
			code, _, stderr := kiln(t, context.Background(), append(args, dev...)...)
			if code != 0 {
				t.Fatalf("%s --device %s: status %d\n%s", model, strings.Join(dev, " "), code, stderr)
			}
		}
		ref := filepath.Join(out, "cpu")
		for _, c := range []struct {
			name string
			tol  float64
		}{{"cuda", 1e-3}, {"cuda--tf32", 5e-3}} {
			dir := filepath.Join(out, c.name)
			if a, b := runFiles(t, ref), runFiles(t, dir); !slices.Equal(a, b) {
				t.Errorf("%s %s: run directory holds %q, --device cpu's %q", model, c.name, b, a)
			}
			closeMetrics(t, model+" "+c.name, readMetrics(t, dir), readMetrics(t, ref), c.tol)
			cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil || !strings.Contains(string(cfg), `"device": "cuda"`) {
				t.Errorf("%s config.json does not record the device: %s %v", c.name, cfg, err)
			}
		}
	}
}

// runFiles lists the files of a run directory, relative to it, with
// TensorBoard's event file named by a pattern.
func runFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if strings.HasPrefix(rel, "events.out.tfevents.") {
				rel = "events.out.tfevents.*" // named by the time
			}
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// readMetrics reads metrics.csv as column -> values, the time left out.
func readMetrics(t *testing.T, dir string) map[string][]float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := strings.Split(lines[0], ",")
	cols := map[string][]float64{}
	for _, l := range lines[1:] {
		for i, f := range strings.Split(l, ",") {
			if i >= len(head) || head[i] == "seconds" {
				continue
			}
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				continue // a column that is not a number
			}
			cols[head[i]] = append(cols[head[i]], v)
		}
	}
	if len(cols) == 0 {
		t.Fatalf("%s/metrics.csv has no figures:\n%s", dir, b)
	}
	return cols
}

// closeMetrics compares two runs' metrics: losses within tol relative to
// max(1, |want|), accuracies within a twelfth plus tol.
func closeMetrics(t *testing.T, what string, got, want map[string][]float64, tol float64) {
	t.Helper()
	for col, w := range want {
		g := got[col]
		if len(g) != len(w) {
			t.Errorf("%s: %s has %d values, --device cpu's %d", what, col, len(g), len(w))
			continue
		}
		lim := tol
		if strings.Contains(col, "acc") {
			lim = 1.0/12 + tol
		}
		for i := range w {
			if math.Abs(g[i]-w[i]) > lim*math.Max(1, math.Abs(w[i])) || math.IsNaN(g[i]) {
				t.Errorf("%s: %s[%d] = %g, --device cpu %g", what, col, i, g[i], w[i])
			}
		}
		t.Logf("%s: %s %v (cpu %v)", what, col, g, w)
	}
}

// TestCUDAEmuEvalBench evaluates a run with --device cuda against the
// engine's evaluation, and runs kiln bench --device cuda.
func TestCUDAEmuEvalBench(t *testing.T) {
	cudaemu.Need(t)
	runDir, _ := trainTiny(t, "emu")
	reps := map[string]evalReport{}
	for _, dev := range []string{"cpu", "cuda"} {
		code, stdout, stderr := kiln(t, context.Background(), "eval", "--json", "--device", dev, runDir)
		if code != 0 {
			t.Fatalf("eval --device %s: status %d\n%s", dev, code, stderr)
		}
		var rep evalReport
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("eval --device %s --json: %v\n%s", dev, err, stdout)
		}
		reps[dev] = rep
	}
	c, g := reps["cpu"], reps["cuda"]
	if g.Images != c.Images || math.Abs(g.Loss-c.Loss) > 1e-4*math.Max(1, c.Loss) || math.Abs(g.Accuracy-c.Accuracy) > 1.0/float64(c.Images) {
		t.Errorf("eval --device cuda: %+v; --device cpu: %+v", g, c)
	}
	code, stdout, stderr := kiln(t, context.Background(), "bench", "--device", "cuda", "--images", "16", "--train-batch", "8", "--infer-batch", "16")
	if code != 0 {
		t.Fatalf("bench --device cuda: status %d\n%s", code, stderr)
	}
	for _, want := range []string{"kiln bench --device cuda", "kiln CUDA emulator", "seed CNN training, batch 8, Adam:", "seed CNN inference, batch 16:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("bench output lacks %q:\n%s", want, stdout)
		}
	}
}
