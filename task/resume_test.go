package task

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
)

// jitter is synth data with a random augmentation, so that a resumed run
// must also reproduce the loader's per-example generators.
type jitter struct{ *synth.Shapes }

func (j jitter) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	y, err := j.Shapes.Get(i, x, rng)
	if rng != nil {
		for k := range 4 {
			x[rng.IntN(len(x))] += 0.1 * float32(k+1) * rng.Float32()
		}
	}
	return y, err
}

func synthDatasets(n int) *source.Datasets {
	return &source.Datasets{Train: jitter{synth.New(n, 1, 20, 20, 3)}, Val: synth.New(48, 1, 20, 20, 4), Test: synth.New(60, 1, 20, 20, 5),
		Classes: synth.Classes, Shape: []int{1, 20, 20}, Source: "synth"}
}

func testConfig(out, name string) run.Config {
	cfg := run.DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.Workers, cfg.CheckpointEvery = 3, 16, 7, 2, 10
	cfg.Out, cfg.Name = out, name
	return cfg
}

// copyDir copies the plain files of a run directory, as a SIGKILL would
// leave them at that moment.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Mkdir(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sameRun requires two finished runs to agree to the bit: model files
// byte for byte, every epoch's statistics, and the test result.
func sameRun(t *testing.T, what string, a, b *Summary) {
	t.Helper()
	for _, f := range []string{run.LastFile, run.BestFile} {
		ba, err := os.ReadFile(filepath.Join(a.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		bb, err := os.ReadFile(filepath.Join(b.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ba, bb) {
			fa, _ := checkpoint.Decode(ba)
			fb, _ := checkpoint.Decode(bb)
			for name, ta := range fa.Tensors {
				if !reflect.DeepEqual(ta, fb.Tensors[name]) {
					t.Errorf("%s: %s: tensor %s differs", what, f, name)
				}
			}
			t.Errorf("%s: %s differs from the uninterrupted run's", what, f)
		}
	}
	if len(a.History) != len(b.History) {
		t.Fatalf("%s: %d epochs, want %d", what, len(b.History), len(a.History))
	}
	for i := range a.History {
		ha, hb := a.History[i], b.History[i]
		ha.Duration, hb.Duration = 0, 0
		if ha != hb {
			t.Errorf("%s: epoch %d: %+v, want %+v", what, i+1, hb, ha)
		}
	}
	if a.Test == nil || b.Test == nil || a.Test.Loss != b.Test.Loss || !reflect.DeepEqual(a.Test.Confusion, b.Test.Confusion) {
		t.Errorf("%s: test results differ", what)
	}
}

// TestResumeIsBitIdentical interrupts runs mid-epoch and at an epoch's end
// (a cancelled context, as Ctrl-C), and "kills" one by copying its run
// directory between checkpoints, and requires every resumed run to end
// exactly as the uninterrupted one: parameters, buffers, metrics and test
// result. The model has dropout and the data random augmentation, so the
// generators' states matter; one schedule steps per batch and cycles
// Adam's beta1, the other steps per epoch. On the device path
// (cpu-backend: the next batch staged while a step runs) the same, and the
// uninterrupted run equals the engine's.
func TestResumeIsBitIdentical(t *testing.T) {
	for _, tc := range []struct{ optimizer, scheduler, device string }{
		{"adam", "onecycle", ""},
		{"sgd", "step", ""},
		{"adam", "onecycle", run.DeviceCPUBackend},
	} {
		t.Run(tc.optimizer+"-"+tc.scheduler+"-"+tc.device, func(t *testing.T) {
			out := t.TempDir()
			ds := synthDatasets(128) // 8 batches an epoch
			cfg := func(name string) run.Config {
				c := testConfig(out, name)
				c.Optimizer, c.Scheduler, c.Momentum, c.Device = tc.optimizer, tc.scheduler, 0.9, tc.device
				return c
			}
			want, err := Run(context.Background(), cfg("straight"), Options{Datasets: ds})
			if err != nil {
				t.Fatal(err)
			}
			if tc.device != "" {
				engine := cfg("engine")
				engine.Device = ""
				e, err := Run(context.Background(), engine, Options{Datasets: ds})
				if err != nil {
					t.Fatal(err)
				}
				sameRun(t, "device against engine", e, want)
			}

			// Interrupt at step 11 (epoch 2, batch 3), after a periodic
			// checkpoint at step 10.
			ctx, cancel := context.WithCancel(context.Background())
			killed := filepath.Join(out, "killed")
			_, err = Run(ctx, cfg("interrupted"), Options{Datasets: ds, OnStep: func(s train.StepInfo) {
				if s.GlobalStep == 11 {
					cancel()
				}
			}})
			var ie *InterruptedError
			if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || ie.Step != 11 || ie.Epoch != 2 || ie.Batch != 3 {
				t.Fatalf("interrupted run: %v (%+v)", err, ie)
			}
			dir := filepath.Join(out, "interrupted")

			// Resume, interrupt again on the last batch of epoch 2 (before
			// validation), resume to the end, and on the way copy the
			// directory at step 21 as a SIGKILL there would leave it: its
			// last checkpoint is the periodic one at step 20.
			ctx, cancel = context.WithCancel(context.Background())
			var log strings.Builder
			_, err = Resume(ctx, dir, cfg("interrupted"), Options{Datasets: ds, Log: &log, OnStep: func(s train.StepInfo) {
				if s.GlobalStep == 16 {
					cancel()
				}
			}})
			if !errors.As(err, &ie) || ie.Step != 16 || ie.Batch != 8 {
				t.Fatalf("second interruption: %v", err)
			}
			if !strings.Contains(log.String(), "resuming "+dir+" at epoch 2, batch 3 of 8 (step 11)") {
				t.Errorf("resume log: %q", log.String())
			}
			got, err := Resume(context.Background(), dir, cfg("interrupted"), Options{Datasets: ds, OnStep: func(s train.StepInfo) {
				if s.GlobalStep == 21 {
					copyDir(t, dir, killed)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			sameRun(t, "interrupted twice", want, got)

			log.Reset()
			got, err = Resume(context.Background(), killed, cfg("interrupted"), Options{Datasets: ds, Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), "at epoch 3, batch 4 of 8 (step 20)") {
				t.Errorf("killed run resumed from the wrong checkpoint: %q", log.String())
			}
			sameRun(t, "killed", want, got)

			if _, err := Resume(context.Background(), dir, cfg("interrupted"), Options{Datasets: ds}); err == nil || !strings.Contains(err.Error(), "is finished") {
				t.Errorf("resuming a finished run: %v", err)
			}
		})
	}
}

func TestResumeChecksSettings(t *testing.T) {
	out := t.TempDir()
	ds := synthDatasets(32)
	cfg := testConfig(out, "r")
	cfg.Epochs = 1
	if _, err := Run(context.Background(), cfg, Options{Datasets: ds}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, "r")
	saved, err := run.ReadRunConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if saved != cfg {
		t.Errorf("config.json holds %+v, want %+v", saved, cfg)
	}
	bad := saved
	bad.LR = 0.5
	if _, err := Resume(context.Background(), dir, bad, Options{Datasets: ds}); err == nil || !strings.HasPrefix(err.Error(), "--lr: ") {
		t.Errorf("changed --lr: %v", err)
	}
	fewer := saved
	fewer.Epochs = 0
	if _, err := Resume(context.Background(), dir, fewer, Options{Datasets: ds}); err == nil || !strings.Contains(err.Error(), "--epochs 0") {
		t.Errorf("fewer epochs: %v", err)
	}
	other := synthDatasets(48)
	if _, err := Resume(context.Background(), dir, saved, Options{Datasets: other}); err == nil || !strings.Contains(err.Error(), "48 training") {
		t.Errorf("other data: %v", err)
	}
	// Raising the epochs of a run without a schedule trains it further.
	more := saved
	more.Epochs, more.Workers = 2, 0
	sum, err := Resume(context.Background(), dir, more, Options{Datasets: ds})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.History) != 2 || sum.History[0].Epoch != 1 || sum.History[1].Epoch != 2 {
		t.Errorf("extended run history %+v", sum.History)
	}
	if c, _ := run.ReadRunConfig(dir); c.Epochs != 2 {
		t.Errorf("config.json says %d epochs after extending", c.Epochs)
	}
}

func TestEarlyStopping(t *testing.T) {
	out := t.TempDir()
	cfg := testConfig(out, "diverges")
	cfg.Epochs, cfg.Patience, cfg.Optimizer, cfg.LR = 6, 1, "sgd", 1e4
	sum, err := Run(context.Background(), cfg, Options{Datasets: synthDatasets(64)})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stopped == "" || len(sum.History) >= cfg.Epochs {
		t.Fatalf("stopped %q after %d epochs", sum.Stopped, len(sum.History))
	}
	_, err = Resume(context.Background(), sum.Dir, cfg, Options{Datasets: synthDatasets(64)})
	if err == nil || !strings.Contains(err.Error(), "is finished") {
		t.Errorf("resuming an early-stopped run: %v", err)
	}
}

// TestRunWritesFiles checks the run directory of a finished run.
func TestRunWritesFiles(t *testing.T) {
	out := t.TempDir()
	cfg := testConfig(out, "files")
	cfg.Epochs = 2
	var log strings.Builder
	sum, err := Run(context.Background(), cfg, Options{Datasets: synthDatasets(64), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(sum.Dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	for _, f := range []string{run.ConfigFile, run.InfoFile, run.StateFile, run.LastFile, run.BestFile, run.MetricsCSV, run.MetricsJSON, run.ReportFile, run.LossPlot, run.AccPlot, run.ConfPlot, "events.out.tfevents."} {
		found := false
		for _, n := range names {
			found = found || n == f || (strings.HasSuffix(f, ".") && strings.HasPrefix(n, f))
		}
		if !found {
			t.Errorf("no %s in %v", f, names)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, ".") {
			t.Errorf("temporary file %s left", n)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(sum.Dir, run.MetricsCSV))
	if lines := strings.Count(string(csv), "\n"); lines != 3 {
		t.Errorf("metrics.csv has %d lines:\n%s", lines, csv)
	}
	info, err := run.ReadRunInfo(sum.Dir)
	if err != nil || info.Model != "seed-cnn" || len(info.Classes) != 6 || info.Transform != "resize=20x20" {
		t.Errorf("run.json %+v, %v", info, err)
	}
	if !strings.Contains(log.String(), "Epoch [2/2], Loss: ") || !strings.Contains(log.String(), "Test accuracy of the best model") {
		t.Errorf("log:\n%s", log.String())
	}
	if _, err := Run(context.Background(), cfg, Options{Datasets: synthDatasets(64)}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("existing run directory: %v", err)
	}
	// The model files are plain state_dicts with the model's names.
	f, err := checkpoint.Read(filepath.Join(sum.Dir, run.BestFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), " "); got != "conv1.bias conv1.weight conv2.bias conv2.weight fc1.bias fc1.weight fc2.bias fc2.weight" {
		t.Errorf("best.safetensors holds %s", got)
	}
	_ = io.Discard
	_ = data.Batch{}
}
