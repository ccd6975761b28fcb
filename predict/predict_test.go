package predict

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
)

// trainRun trains a small run of task on a synthetic image folder with
// train/ and test/ splits and returns its summary.
func trainRun(t *testing.T, taskName, model string) *task.Summary {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.WriteFolder(filepath.Join(dir, "train"), 48, 1, 3); err != nil {
		t.Fatal(err)
	}
	paths, err := synth.WriteFolder(filepath.Join(dir, "test"), 24, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no test images written")
	}
	cfg := run.DefaultConfig()
	cfg.Data, cfg.Task, cfg.Model, cfg.Epochs, cfg.BatchSize, cfg.ImageSize, cfg.Channels = dir, taskName, model, 2, 8, 16, 1
	cfg.Workers, cfg.Out, cfg.Name, cfg.Seed, cfg.LR = 1, t.TempDir(), "r", 3, 3e-3
	sum, err := task.Run(context.Background(), cfg, task.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestEvaluateReproducesTheRun loads a finished classifier run and
// requires its evaluation on the run's own test set to equal what the run
// reported when it finished, and a prediction per test image that sums to
// one and agrees with the confusion matrix's total.
func TestEvaluateReproducesTheRun(t *testing.T) {
	sum := trainRun(t, run.TaskClassify, "mlp")
	m, err := LoadTrained(sum.Dir, "best")
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := m.Evaluate(context.Background(), "", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Test == nil || r.Accuracy != sum.Test.Accuracy || r.Loss != sum.Test.Loss || r.Confusion.Total() != sum.Test.Confusion.Total() {
		t.Errorf("evaluation %+v, the run reported %+v", r, sum.Test)
	}
	info, err := run.ReadRunInfo(sum.Dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := run.ReadRunConfig(sum.Dir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(cfg.Data, "test", "*", "*.png"))
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, f := range files[:3] {
		p, err := m.PredictFile(f)
		if err != nil {
			t.Fatal(err)
		}
		total := 0.0
		for _, v := range p {
			total += v
		}
		if len(p) != len(info.Classes) || math.Abs(total-1) > 1e-9 {
			t.Errorf("%s: %d probabilities summing to %v, want %d summing to 1", f, len(p), total, len(info.Classes))
		}
		top := m.TopK(p, 1)
		if len(top) != 1 || top[0].Probability != maxOf(p) {
			t.Errorf("%s: top-1 %+v of %v", f, top, p)
		}
	}
}

// TestLoadTrainedAutoencoder loads an autoencoder run, whose model is
// rebuilt from a run.json without classes, and refuses to classify with
// it.
func TestLoadTrainedAutoencoder(t *testing.T) {
	sum := trainRun(t, run.TaskAutoencode, "conv-ae")
	m, err := LoadTrained(sum.Dir, "best")
	if err != nil {
		t.Fatalf("LoadTrained of an autoencoder run: %v", err)
	}
	if m.Info.Task != run.TaskAutoencode {
		t.Errorf("task %q", m.Info.Task)
	}
	if _, _, err := m.Evaluate(context.Background(), "", 1, nil); err == nil {
		t.Error("an autoencoder run was evaluated as a classifier")
	}
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
