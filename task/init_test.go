package task

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/run"
)

// TestInitStartsFromWeights trains a model, then starts a second run from
// its weights with a learning rate too small to move them: the second run
// must score what the first scored, where random weights score near chance.
func TestInitStartsFromWeights(t *testing.T) {
	out := t.TempDir()
	cfg := testConfig(out, "first")
	first, err := Run(context.Background(), cfg, Options{Datasets: synthDatasets(96)})
	if err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(first.Dir, run.BestFile)

	cfg = testConfig(out, "second")
	cfg.Epochs, cfg.Optimizer, cfg.LR, cfg.Seed = 1, "sgd", 1e-30, 99
	cfg.Init = weights
	second, err := Run(context.Background(), cfg, Options{Datasets: synthDatasets(96)})
	if err != nil {
		t.Fatal(err)
	}
	if first.Test.Accuracy < 0.5 {
		t.Fatalf("the first run reached only %.3f test accuracy; the check needs a trained model", first.Test.Accuracy)
	}
	if second.Test.Accuracy != first.Test.Accuracy || second.Test.Loss != first.Test.Loss {
		t.Errorf("started from the first run's weights: test accuracy %.4f loss %.6f, want the first run's %.4f %.6f",
			second.Test.Accuracy, second.Test.Loss, first.Test.Accuracy, first.Test.Loss)
	}
	cfg.Init, cfg.Name = "", "random"
	random, err := Run(context.Background(), cfg, Options{Datasets: synthDatasets(96)})
	if err != nil {
		t.Fatal(err)
	}
	if random.Test.Accuracy >= first.Test.Accuracy {
		t.Errorf("random weights score %.3f, as well as trained ones (%.3f): the check cannot tell them apart", random.Test.Accuracy, first.Test.Accuracy)
	}

	// run.json names the file and its hash, so the run can be repeated.
	info, err := run.ReadRunInfo(second.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Init != weights || len(info.InitSHA256) != 64 {
		t.Errorf("run.json init %q sha256 %q", info.Init, info.InitSHA256)
	}
}

func TestInitErrors(t *testing.T) {
	out := t.TempDir()
	other := filepath.Join(out, "other.safetensors")
	if err := checkpoint.Write(other, &checkpoint.File{Tensors: map[string]*checkpoint.Tensor{
		"fc.weight": {DType: checkpoint.F32, Shape: []int{2, 2}, Data: make([]float32, 4)}}}); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(out, "garbage.safetensors")
	if err := os.WriteFile(garbage, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, want string }{
		{filepath.Join(out, "missing.safetensors"), "missing.safetensors"},
		{other, `no tensor "conv1.weight", which the model needs`},
		{garbage, "garbage.safetensors"},
	} {
		cfg := testConfig(out, "run-"+filepath.Base(c.file))
		cfg.Init = c.file
		_, err := Run(context.Background(), cfg, Options{Datasets: synthDatasets(32)})
		if err == nil || !strings.Contains(err.Error(), "--init") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--init %s: error %v, want one naming --init and %q", filepath.Base(c.file), err, c.want)
		}
		if _, err := os.Stat(filepath.Join(out, cfg.Name)); err == nil {
			t.Errorf("--init %s: the failed run left a run directory", filepath.Base(c.file))
		}
	}
}
