package task

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
)

const testArch = `[{"type": "conv2d", "out": 6, "kernel": 3, "padding": 1}, {"type": "relu"},
 {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "out": 24}, {"type": "relu"},
 {"type": "linear"}]`

// TestArchitectureFile trains the model of an architecture file
// (--model FILE.json): config.json keeps the architecture, so that a run
// interrupted and resumed after the file is gone ends with the bits of an
// uninterrupted run, and the model is an architecture file's Stack.
func TestArchitectureFile(t *testing.T) {
	out := t.TempDir()
	file := filepath.Join(out, "small.json")
	if err := os.WriteFile(file, []byte(testArch), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := func(name string) run.Config {
		c := testConfig(out, name)
		c.Model, c.Epochs = file, 2
		return c
	}
	ds := synthDatasets(64)
	want, err := Run(context.Background(), cfg("straight"), Options{Datasets: ds})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Run(ctx, cfg("resumed"), Options{Datasets: ds, OnStep: func(s train.StepInfo) {
		if s.GlobalStep == 5 {
			cancel()
		}
	}})
	var ie *InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("interrupted run: %v", err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, "resumed")
	saved, err := run.ReadRunConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Model != "small.json" || saved.Architecture != testArch {
		t.Fatalf("config.json: model %q, architecture %q", saved.Model, saved.Architecture)
	}
	got, err := Resume(context.Background(), dir, saved, Options{Datasets: ds})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{run.LastFile, run.BestFile} {
		a, _ := os.ReadFile(filepath.Join(want.Dir, f))
		b, _ := os.ReadFile(filepath.Join(got.Dir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs from the uninterrupted run's (%d and %d bytes)", f, len(a), len(b))
		}
	}
	m, err := NewModel(saved, run.TaskClassify, saved.Model, ds.Shape, len(ds.Classes), nil, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*models.Stack); !ok {
		t.Fatalf("the rebuilt model is a %T, not an architecture file's stack", m)
	}

	bad := cfg("bad")
	bad.Model = filepath.Join(out, "missing.json")
	if _, err := Run(context.Background(), bad, Options{Datasets: ds}); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("a missing architecture file: %v", err)
	}
	if err := os.WriteFile(file, []byte(`[{"type": "conv2d"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad.Model = file
	if _, err := Run(context.Background(), bad, Options{Datasets: ds}); err == nil || !strings.Contains(err.Error(), "small.json") {
		t.Errorf("an architecture file without a conv2d's out channels: %v", err)
	}
}
