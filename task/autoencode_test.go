package task

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
)

// TestReconstructorLearns trains the autoencoder on synthetic patterns and
// requires the reconstruction loss to fall by half.
func TestReconstructorLearns(t *testing.T) {
	m, err := models.NewAutoencoder("conv-ae", models.Shape{Channels: 1, Height: 20, Width: 20}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReconstructor(m, optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 3e-3}))
	ds := synth.New(192, 1, 20, 20, 3)
	l, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 1})
	loop := &train.Loop{Learner: r, Train: l, Epochs: 20}
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	hist := loop.History
	first, last := hist[0].TrainLoss, hist[len(hist)-1].TrainLoss
	t.Logf("reconstruction loss %.4f -> %.4f", first, last)
	if !(last < first/2) || hist[0].TrainAcc != 0 {
		t.Errorf("loss %.4f -> %.4f, accuracy %g", first, last, hist[0].TrainAcc)
	}
	ev, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 64})
	res, err := train.Evaluate(context.Background(), r, ev, nil)
	if err != nil || !(res.Loss > 0 && res.Loss < first) {
		t.Errorf("evaluation loss %g, %v", res.Loss, err)
	}
}

// TestAutoencoderResumeIsBitIdentical interrupts a denoising autoencoder
// run mid-epoch and requires the resumed run to end exactly as an
// uninterrupted one, corruption noise included, down to its features.
func TestAutoencoderResumeIsBitIdentical(t *testing.T) {
	out := t.TempDir()
	cfg := func(name string) run.Config {
		c := testConfig(out, name)
		c.Task, c.Model, c.Epochs = run.TaskAutoencode, "conv-dae", 2
		return c
	}
	ds := synthDatasets(64) // 4 batches an epoch
	want, err := Run(context.Background(), cfg("straight"), Options{Datasets: ds})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Run(ctx, cfg("resumed"), Options{Datasets: ds, OnStep: func(s train.StepInfo) {
		if s.GlobalStep == 6 {
			cancel()
		}
	}})
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Step != 6 {
		t.Fatalf("interrupted run: %v", err)
	}
	got, err := Resume(context.Background(), filepath.Join(out, "resumed"), cfg("resumed"), Options{Datasets: ds})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{run.LastFile, run.BestFile, FeaturesFile, FeaturesCSV, run.ReportFile} {
		a, _ := os.ReadFile(filepath.Join(want.Dir, f))
		b, _ := os.ReadFile(filepath.Join(got.Dir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs from the uninterrupted run's (%d and %d bytes)", f, len(a), len(b))
		}
	}
	for i := range want.History {
		a, b := want.History[i], got.History[i]
		a.Duration, b.Duration = 0, 0
		if a != b {
			t.Errorf("epoch %d: %+v, want %+v", i+1, b, a)
		}
	}
	if want.Test == nil || got.Test == nil || want.Test.Loss != got.Test.Loss {
		t.Errorf("test results %+v and %+v", want.Test, got.Test)
	}
	info, err := run.ReadRunInfo(want.Dir)
	if err != nil || info.Task != run.TaskAutoencode {
		t.Errorf("run.json: %+v, %v", info, err)
	}
}
