package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/run"
)

// TestTrainDP: kiln train --dp on the embedded Fashion-MNIST subset prints
// the epsilon spent per epoch and at the end, records the settings in
// config.json, and refuses DP settings that cannot work with exit code 2.
func TestTrainDP(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	out := t.TempDir()
	ctx := context.Background()
	code, stdout, stderr := kiln(t, ctx, "train", "--dp", "--target-epsilon", "5", "--model", "mlp", "--epochs", "1", "--batch-size", "200",
		"--optimizer", "sgd", "--lr", "0.2", "--out", out, "--name", "dp")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"DP-SGD: noise multiplier", "per-sample gradients from one batched backward pass", "Epoch [1/1]", "Epsilon: ", "privacy: (4.9"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
	cfg, err := run.ReadRunConfig(filepath.Join(out, "dp"))
	if err != nil || !cfg.DP || cfg.TargetEpsilon != 5 || cfg.MaxGradNorm != 1 || cfg.Delta != 1e-5 || !(cfg.NoiseMultiplier > 0) {
		t.Errorf("config.json: %+v, %v", cfg, err)
	}
	csv, _ := os.ReadFile(filepath.Join(out, "dp", run.MetricsCSV))
	if !strings.Contains(string(csv), ",epsilon\n") {
		t.Errorf("metrics.csv:\n%s", csv)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dp", "--noise-multiplier", "1", "--target-epsilon", "3"}, "give one"},
		{[]string{"--max-grad-norm", "2"}, "need --dp"},
		{[]string{"--dp"}, "give --noise-multiplier"},
		{[]string{"--dp", "--noise-multiplier", "1", "--clip-norm", "1"}, "--clip-norm 1"},
		{[]string{"--dp", "--noise-multiplier", "1", "--delta", "2"}, "--delta 2"},
	} {
		code, _, stderr := kiln(t, ctx, append([]string{"train", "--out", out}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
