package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFedSimulateEvalPredict simulates two strategies over an image
// folder dealt as label shards, then reads a strategy's run with kiln eval
// and kiln predict.
func TestFedSimulateEvalPredict(t *testing.T) {
	data, sample := tinyData(t)
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "fed", "simulate", "--data", data, "--channels", "1", "--image-size", "16",
		"--clients", "4", "--per-round", "3", "--shards", "2", "--strategy", "fedavg,trimmedmean", "--rounds", "2", "--model", "mlp",
		"--out", out, "--name", "sim", "--seed", "4")
	if code != 0 {
		t.Fatalf("kiln fed simulate: status %d\n%s\n%s", code, stdout, stderr)
	}
	dir := filepath.Join(out, "sim")
	for _, want := range []string{"fedavg ", "trimmedmean ", "simulation directory " + dir} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "round 2/2: test accuracy") {
		t.Errorf("no round lines on stderr:\n%s", stderr)
	}
	for _, f := range []string{"acc_per_round.png", "summary.csv", "partition.csv", "fedavg/last.safetensors", "trimmedmean/metrics.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the simulation lacks %s", f)
		}
	}
	code, stdout, stderr = kiln(t, context.Background(), "eval", filepath.Join(dir, "fedavg"))
	if code != 0 || !strings.Contains(stdout, "Accuracy: ") {
		t.Fatalf("kiln eval of a simulated run: status %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = kiln(t, context.Background(), "predict", filepath.Join(dir, "trimmedmean"), sample)
	if code != 0 || !strings.Contains(stdout, filepath.Base(sample)) {
		t.Fatalf("kiln predict with a simulated run: status %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestFedSimulateUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--iid", "--dirichlet", "0.5"}, "pick one way to deal the data"},
		{[]string{"--dirichlet", "-1"}, "--dirichlet -1"},
		{[]string{"--clients", "4", "--per-round", "5"}, "--per-round 5: more than the 4 --clients"},
		{[]string{"--strategy", "fedavg,krum", "--secagg"}, "krum needs each client's update"},
		{[]string{"--strategy", "fedavg,fedsgd"}, `unknown strategy "fedsgd"`},
		{[]string{"--strategy", ","}, "name at least one"},
		{[]string{"stray"}, `unexpected argument "stray"`},
	} {
		code, _, stderr := kiln(t, context.Background(), append([]string{"fed", "simulate"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("kiln fed simulate %s: status %d, stderr %q; want status 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	code, stdout, _ := kiln(t, context.Background(), "fed", "simulate", "-h")
	if code != 0 || !strings.Contains(stdout, "--dirichlet") || !strings.Contains(stdout, "acc_per_round.png") {
		t.Errorf("kiln fed simulate -h: status %d\n%s", code, stdout)
	}
}
