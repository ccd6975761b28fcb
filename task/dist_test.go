package task

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/dist"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
)

// onRanks runs f for every rank of a group of n goroutines and returns
// rank 0's summary and every rank's error.
func onRanks(n int, f func(c dist.Communicator) (*Summary, error)) (*Summary, []error) {
	cs := dist.NewGroup(n, time.Minute)
	errs := make([]error, n)
	var first *Summary
	var wg sync.WaitGroup
	for r, c := range cs {
		wg.Go(func() {
			s, err := f(c)
			if r == 0 {
				first = s
			}
			errs[r] = err
		})
	}
	wg.Wait()
	return first, errs
}

func noErrors(t *testing.T, what string, errs []error) {
	t.Helper()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("%s: rank %d: %v", what, r, err)
		}
	}
}

// TestReplicasResumeBitIdentical trains a seed CNN with dropout and random
// augmentation on two ranks; interrupts it on rank 1 alone at step 11
// (both must stop after the next step, when the ranks next sum their
// figures) and again at step 16, "kills" it by
// copying the run directory at step 21, and requires every resumed run to
// end exactly as the uninterrupted two-rank run. Only rank 0 writes: the
// output folder holds the runs and nothing else.
func TestReplicasResumeBitIdentical(t *testing.T) {
	out := t.TempDir()
	ds := synthDatasets(256) // global batch 2 x 16: 8 steps an epoch
	opts := func(c dist.Communicator, onStep func(train.StepInfo)) Options {
		o := Options{Datasets: ds, Comm: c, CheckReplicas: 4}
		if c.Rank() == 1 {
			o.OnStep = onStep
		}
		return o
	}
	want, errs := onRanks(2, func(c dist.Communicator) (*Summary, error) {
		return Run(context.Background(), testConfig(out, "straight"), opts(c, nil))
	})
	noErrors(t, "straight", errs)

	interrupt := func(at int) (context.Context, func(train.StepInfo)) {
		ctx, cancel := context.WithCancel(context.Background())
		return ctx, func(s train.StepInfo) {
			if s.GlobalStep == at {
				cancel()
			}
		}
	}
	dir := filepath.Join(out, "interrupted")
	_, errs = onRanks(2, func(c dist.Communicator) (*Summary, error) {
		ctx, stop := interrupt(11)
		if c.Rank() != 1 {
			ctx = context.Background()
		}
		return Run(ctx, testConfig(out, "interrupted"), opts(c, stop))
	})
	for r, err := range errs {
		var ie *InterruptedError
		if !errors.As(err, &ie) || ie.Step != 12 {
			t.Fatalf("rank %d: %v, want an interruption after step 12", r, err)
		}
	}
	_, errs = onRanks(2, func(c dist.Communicator) (*Summary, error) {
		ctx, stop := interrupt(16)
		if c.Rank() != 1 {
			ctx = context.Background()
		}
		return Resume(ctx, dir, testConfig(out, "interrupted"), opts(c, stop))
	})
	for r, err := range errs {
		var ie *InterruptedError
		if !errors.As(err, &ie) || ie.Step != 17 {
			t.Fatalf("second interruption, rank %d: %v", r, err)
		}
	}
	killed := filepath.Join(out, "killed")
	got, errs := onRanks(2, func(c dist.Communicator) (*Summary, error) {
		return Resume(context.Background(), dir, testConfig(out, "interrupted"), opts(c, func(s train.StepInfo) {
			if s.GlobalStep == 21 {
				copyDir(t, dir, killed)
			}
		}))
	})
	noErrors(t, "resumed", errs)
	sameRun(t, "interrupted twice", want, got)

	got, errs = onRanks(2, func(c dist.Communicator) (*Summary, error) {
		return Resume(context.Background(), killed, testConfig(out, "interrupted"), opts(c, nil))
	})
	noErrors(t, "killed", errs)
	sameRun(t, "killed", want, got)

	ents, _ := os.ReadDir(out)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "interrupted killed straight" {
		t.Errorf("the output folder holds %v, want the three runs only", names)
	}
	info, err := run.ReadRunInfo(want.Dir)
	if err != nil || info.Ranks != 2 {
		t.Errorf("run.json: ranks %d (%v), want 2", info.Ranks, err)
	}

	// One rank cannot resume what two trained.
	if _, err := Resume(context.Background(), dir, testConfig(out, "interrupted"), Options{Datasets: ds}); err == nil {
		t.Error("a two-rank run resumed in one process: no error")
	}
}

// TestReplicasMustAgree checks that ranks started with different settings
// or data stop at once, naming what differs.
func TestReplicasMustAgree(t *testing.T) {
	for _, tc := range []struct {
		name string
		vary func(r int, cfg *run.Config, ds **source.Datasets)
		want string
	}{
		{"lr", func(r int, cfg *run.Config, _ **source.Datasets) { cfg.LR *= float64(1 + r) }, `--lr: rank 1`},
		{"data", func(r int, _ *run.Config, ds **source.Datasets) {
			if r == 1 {
				*ds = synthDatasets(96)
			}
		}, "the data (--data): rank 1"},
	} {
		out := t.TempDir()
		_, errs := onRanks(2, func(c dist.Communicator) (*Summary, error) {
			cfg, ds := testConfig(out, "r"), synthDatasets(64)
			tc.vary(c.Rank(), &cfg, &ds)
			return Run(context.Background(), cfg, Options{Datasets: ds, Comm: c, Log: io.Discard})
		})
		for r, err := range errs {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: rank %d: %v, want an error naming %q", tc.name, r, err, tc.want)
			}
		}
		if ents, _ := os.ReadDir(out); len(ents) != 0 {
			t.Errorf("%s: a run directory was made", tc.name)
		}
	}
}

// weights reads a run's last model as one vector, tensors in name order.
func weights(t *testing.T, dir string) []float32 {
	t.Helper()
	f, err := checkpoint.Read(filepath.Join(dir, run.LastFile))
	if err != nil {
		t.Fatal(err)
	}
	var all []float32
	for _, name := range f.Names() {
		all = append(all, f.Tensors[name].Data...)
	}
	return all
}

// relL2 is the L2 distance of got from want, relative to want's norm.
func relL2(want, got []float32) float64 {
	var d, n float64
	for i, w := range want {
		d += float64(got[i]-w) * float64(got[i]-w)
		n += float64(w) * float64(w)
	}
	return math.Sqrt(d / n)
}

// TestReplicasAutoencoder trains the convolutional autoencoder on two
// ranks and on one process with the same global batch: the same model (to
// 1e-5 relative), the same test loss, and rank 0's figures.
func TestReplicasAutoencoder(t *testing.T) {
	out := t.TempDir()
	ds := synthDatasets(128)
	cfg := func(name string, batch int) run.Config {
		c := testConfig(out, name)
		c.Task, c.Model, c.Epochs, c.BatchSize = run.TaskAutoencode, "conv-ae", 1, batch
		c.Optimizer, c.LR, c.Momentum = "sgd", 0.05, 0.9
		return c
	}
	want, err := Run(context.Background(), cfg("one", 16), Options{Datasets: ds})
	if err != nil {
		t.Fatal(err)
	}
	got, errs := onRanks(2, func(c dist.Communicator) (*Summary, error) {
		return Run(context.Background(), cfg("two", 8), Options{Datasets: ds, Comm: c})
	})
	noErrors(t, "two ranks", errs)
	if rel := relL2(weights(t, want.Dir), weights(t, got.Dir)); rel > 1e-5 {
		t.Errorf("two ranks' autoencoder %.3g (relative L2) from one process's", rel)
	}
	if want.Test == nil || got.Test == nil || math.Abs(want.Test.Loss-got.Test.Loss) > 1e-5*want.Test.Loss {
		t.Errorf("test loss %+v, one process %+v", got.Test, want.Test)
	}
	if _, err := os.Stat(filepath.Join(got.Dir, FeaturesFile)); err != nil {
		t.Errorf("rank 0 wrote no features: %v", err)
	}
}

// TestReplicasTextTasks trains a text classifier (LSTM) and a character
// language model on two ranks and on one process with the same global
// batch. The language model (no dropout) must end as one process's, to
// 1e-5 relative, with the same test loss; the classifier's dropout draws
// other masks on rank 1, so it must only reach one process's test accuracy
// within 10 points. Rank 0 writes the vocabulary and the sample.
func TestReplicasTextTasks(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "w.tsv")
	writeWordLines(t, lines, 150, 1)
	book := filepath.Join(dir, "book.txt")
	os.WriteFile(book, []byte(strings.Repeat("the cat sat on the mat; the dog lay on the rug.\n", 40)), 0o644)
	for _, tc := range []struct {
		name  string
		set   func(c *run.Config)
		file  string
		exact bool
	}{
		{"lstm-classifier", func(c *run.Config) { c.Data, c.Model = lines, "lstm-classifier" }, source.EncoderFile, false},
		{"char-lm", func(c *run.Config) { c.Data, c.Model, c.Task, c.SeqLen = book, "char-lm", run.TaskLM, 24 }, SampleFile, true},
	} {
		out := t.TempDir()
		cfg := func(name string, batch int) run.Config {
			c := testConfig(out, name)
			c.Epochs, c.BatchSize, c.Hidden, c.EmbedDim = 1, batch, 12, 6
			c.Optimizer, c.LR, c.Momentum = "sgd", 0.1, 0.9
			tc.set(&c)
			return c
		}
		want, err := Run(context.Background(), cfg("one", 16), Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, errs := onRanks(2, func(c dist.Communicator) (*Summary, error) {
			return Run(context.Background(), cfg("two", 8), Options{Comm: c})
		})
		noErrors(t, tc.name, errs)
		if want.Test == nil || got.Test == nil {
			t.Fatalf("%s: no test result", tc.name)
		}
		if !tc.exact {
			if math.Abs(want.Test.Accuracy-got.Test.Accuracy) > 0.1 {
				t.Errorf("%s: test accuracy %.3f, one process %.3f", tc.name, got.Test.Accuracy, want.Test.Accuracy)
			}
		} else {
			if rel := relL2(weights(t, want.Dir), weights(t, got.Dir)); rel > 1e-5 {
				t.Errorf("%s: two ranks' model %.3g (relative L2) from one process's", tc.name, rel)
			}
			if math.Abs(want.Test.Loss-got.Test.Loss) > 1e-5*want.Test.Loss {
				t.Errorf("%s: test loss %.6f, one process %.6f", tc.name, got.Test.Loss, want.Test.Loss)
			}
		}
		if !run.Exists(filepath.Join(got.Dir, tc.file)) {
			t.Errorf("%s: rank 0 wrote no %s", tc.name, tc.file)
		}
	}
}
