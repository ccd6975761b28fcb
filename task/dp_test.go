package task

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/dist"
	"github.com/kiln-ml/kiln/privacy"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
)

func dpConfig(out, name string) run.Config {
	c := testConfig(out, name)
	c.DP, c.NoiseMultiplier, c.Optimizer, c.LR = true, 0.8, "sgd", 0.2
	c.SetDPDefaults()
	return c
}

// TestDPResumeIsBitIdentical: a DP run (seed-cnn with dropout, augmented
// data) interrupted mid-epoch and killed between checkpoints ends as the
// uninterrupted run does, its epsilon included; each epoch's examples are
// its Poisson batches', and the epsilon in the epoch lines, metrics.csv,
// TensorBoard and the report is the accountant's.
func TestDPResumeIsBitIdentical(t *testing.T) {
	out := t.TempDir()
	ds := synthDatasets(128) // ceil(128/16) = 8 steps an epoch, sample rate 1/8
	var log strings.Builder
	want, err := Run(context.Background(), dpConfig(out, "straight"), Options{Datasets: ds, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "DP-SGD: noise multiplier 0.8, max grad norm 1, Poisson batches of expected size 16 (sample rate 0.125), 8 steps an epoch, delta 1e-05; per-sample gradients from one batched backward pass") {
		t.Errorf("log:\n%s", log.String())
	}
	images := 0
	for _, h := range want.History {
		images += h.Images
	}
	if images == 3*128 || images < 3*128*3/4 || images > 3*128*5/4 {
		t.Errorf("%d examples in 3 epochs of Poisson batches of expected size 16 (8 an epoch): want about but not exactly 384", images)
	}
	for _, h := range want.History {
		eps, _, _ := privacy.Epsilon(0.125, 0.8, h.Step, 1e-5)
		if line := "Epoch [" + strconv.Itoa(h.Epoch) + "/3]"; !strings.Contains(log.String(), line) ||
			!strings.Contains(log.String(), "Epsilon: "+strconv.FormatFloat(eps, 'f', 3, 64)+" (delta 1e-05)") {
			t.Errorf("epoch line %d lacks epsilon %.3f:\n%s", h.Epoch, eps, log.String())
		}
	}
	eps24, _, _ := privacy.Epsilon(0.125, 0.8, 24, 1e-5)
	csv, _ := os.ReadFile(filepath.Join(want.Dir, run.MetricsCSV))
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 4 || !strings.HasSuffix(lines[0], ",epsilon") ||
		!strings.HasSuffix(lines[3], ","+strconv.FormatFloat(eps24, 'g', 6, 64)) {
		t.Errorf("metrics.csv, want epsilon %.6g after 24 steps:\n%s", eps24, csv)
	}
	rep, _ := os.ReadFile(filepath.Join(want.Dir, run.ReportFile))
	if !strings.Contains(string(rep), "privacy: ("+strconv.FormatFloat(eps24, 'f', 4, 64)+", 1e-05)-DP after 24 DP-SGD steps") {
		t.Errorf("test report:\n%s", rep)
	}
	if ev := tfEvents(t, want.Dir); !bytes.Contains(ev, []byte("privacy/epsilon")) {
		t.Error("no privacy/epsilon scalar in TensorBoard")
	}

	ctx, cancel := context.WithCancel(context.Background())
	_, err = Run(ctx, dpConfig(out, "interrupted"), Options{Datasets: ds, OnStep: func(s train.StepInfo) {
		if s.GlobalStep == 11 {
			cancel()
		}
	}})
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Step != 11 {
		t.Fatalf("interrupted run: %v", err)
	}
	dir, killed := filepath.Join(out, "interrupted"), filepath.Join(out, "killed")
	got, err := Resume(context.Background(), dir, dpConfig(out, "interrupted"), Options{Datasets: ds, OnStep: func(s train.StepInfo) {
		if s.GlobalStep == 21 {
			copyDir(t, dir, killed)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, "interrupted", want, got)
	got, err = Resume(context.Background(), killed, dpConfig(out, "interrupted"), Options{Datasets: ds})
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, "killed", want, got)
	if rep2, _ := os.ReadFile(filepath.Join(killed, run.ReportFile)); !bytes.Equal(rep, rep2) {
		t.Errorf("the resumed run's report differs:\n%s", rep2)
	}
}

// tfEvents returns the run's TensorBoard file.
func tfEvents(t *testing.T, dir string) []byte {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if len(m) != 1 {
		t.Fatalf("TensorBoard files %v", m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDPTargetEpsilon: --target-epsilon picks the noise multiplier that
// spends at most the target over the run's epochs (config.json records
// it), and such a run cannot be extended.
func TestDPTargetEpsilon(t *testing.T) {
	out := t.TempDir()
	ds := synthDatasets(64)
	cfg := dpConfig(out, "target")
	cfg.NoiseMultiplier, cfg.TargetEpsilon, cfg.Epochs = 0, 4, 2
	sum, err := Run(context.Background(), cfg, Options{Datasets: ds})
	if err != nil {
		t.Fatal(err)
	}
	saved, err := run.ReadRunConfig(sum.Dir)
	if err != nil {
		t.Fatal(err)
	}
	sigma, _ := privacy.NoiseMultiplier(4, 1e-5, 0.25, 8, 0.01)
	if saved.NoiseMultiplier != sigma || saved.TargetEpsilon != 4 {
		t.Errorf("config.json: noise multiplier %v for target %v, want %v", saved.NoiseMultiplier, saved.TargetEpsilon, sigma)
	}
	if eps, _, _ := privacy.Epsilon(0.25, saved.NoiseMultiplier, 8, 1e-5); !(eps <= 4 && eps > 3.9) {
		t.Errorf("the run spent epsilon %v for a target of 4", eps)
	}
	saved.Epochs = 3
	if _, err := Resume(context.Background(), sum.Dir, saved, Options{Datasets: ds}); err == nil || !strings.Contains(err.Error(), "cannot train longer") {
		t.Errorf("extending a target-epsilon run: %v", err)
	}
}

// TestDPRefusals: batch normalisation (named by layer) and data-parallel
// runs are refused before anything is written.
func TestDPRefusals(t *testing.T) {
	out := t.TempDir()
	cfg := dpConfig(out, "bn")
	cfg.Model = "resnet8"
	if _, err := Run(context.Background(), cfg, Options{Datasets: synthDatasets(32)}); err == nil || !strings.Contains(err.Error(), "layer bn1 is batch normalisation") {
		t.Errorf("resnet8: %v", err)
	}
	_, errs := onRanks(2, func(c dist.Communicator) (*Summary, error) {
		return Run(context.Background(), dpConfig(out, "ranks"), Options{Datasets: synthDatasets(32), Comm: c})
	})
	for r, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "data-parallel DP-SGD is not supported") {
			t.Errorf("rank %d: %v", r, err)
		}
	}
	dev := dpConfig(out, "device")
	dev.Device = run.DeviceCPUBackend
	if _, err := Run(context.Background(), dev, Options{Datasets: synthDatasets(32)}); err == nil || !strings.Contains(err.Error(), "--device") {
		t.Errorf("--device: %v", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("refused runs left %d entries in the output folder", len(ents))
	}
}
