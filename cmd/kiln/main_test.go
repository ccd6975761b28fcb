package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/run"
)

// kiln runs one command in-process and returns its status and output.
func kiln(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runContext(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// writeFolder writes n grey 16x16 PNGs of the synthetic pattern classes
// into dir/<class>/, and returns one of the files.
func writeFolder(t *testing.T, dir string, n int, seed uint64, classes int) string {
	t.Helper()
	paths, err := synth.WriteFolder(dir, n, seed, classes)
	if err != nil || len(paths) == 0 {
		t.Fatalf("writing %d images into %s: %d written, %v", n, dir, len(paths), err)
	}
	return paths[len(paths)-1]
}

// tinyData writes a train/test image folder of the six pattern classes.
func tinyData(t *testing.T) (dir, sample string) {
	dir = t.TempDir()
	writeFolder(t, filepath.Join(dir, "train"), 48, 1, 6)
	sample = writeFolder(t, filepath.Join(dir, "test"), 24, 2, 6)
	return dir, sample
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version"} {
		code, out, _ := kiln(t, context.Background(), arg)
		if code != 0 || !strings.HasPrefix(out, "kiln ") {
			t.Errorf("%s: status %d, %q", arg, code, out)
		}
	}
	code, out, _ := kiln(t, context.Background(), "train", "-h")
	if code != 0 || !strings.Contains(out, "-checkpoint-every") || !strings.Contains(out, "--resume RUN") {
		t.Errorf("train -h: status %d\n%s", code, out)
	}
}

// TestHelp checks that the top-level help names every command, and that
// every command answers -h with its usage and flags.
func TestHelp(t *testing.T) {
	code, out, _ := kiln(t, context.Background(), "--help")
	for _, cmd := range []string{"kiln train", "--task autoencode", "--resume", "kiln eval", "kiln predict", "kiln export", "kiln import",
		"kiln data fetch", "kiln data stats", "kiln version", "Examples:"} {
		if code != 0 || !strings.Contains(out, cmd) {
			t.Errorf("kiln --help lacks %q", cmd)
		}
	}
	for _, args := range [][]string{{"train"}, {"eval"}, {"predict"}, {"export"}, {"import"}, {"data", "fetch"}, {"data", "stats"}, {"data"}} {
		code, out, stderr := kiln(t, context.Background(), append(args, "-h")...)
		if code != 0 || !strings.HasPrefix(out, "Usage: kiln "+args[0]) || (len(args) == 1 && args[0] != "data" && !strings.Contains(out, "Flags:")) {
			t.Errorf("kiln %s -h: status %d\n%s%s", strings.Join(args, " "), code, out, stderr)
		}
	}
}

// TestUsageErrors checks that bad flags and arguments give status 2 and a
// message that names the culprit.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"train", "--bogus"}, "-bogus"},
		{[]string{"train", "--epochs", "x"}, `invalid value "x" for flag -epochs`},
		{[]string{"train", "--epochs", "0"}, "--epochs 0"},
		{[]string{"train", "--optimizer", "adagrad"}, `--optimizer "adagrad"`},
		{[]string{"train", "--scheduler", "linear"}, `--scheduler "linear"`},
		{[]string{"train", "--val-split", "1.5"}, "--val-split 1.5"},
		{[]string{"train", "--channels", "2"}, "--channels 2"},
		{[]string{"train", "--patience", "-1"}, "--patience -1"},
		{[]string{"train", "stray"}, `unexpected argument "stray"`},
		{[]string{"train", "--config", filepath.Join(dir, "missing.yaml")}, "--config: "},
		{[]string{"train", "--resume", dir, "--lr", "0.1", "--seed", "3"}, "--lr, --seed: a resumed run keeps its own settings"},
		{[]string{"train", "--resume", filepath.Join(dir, "nope")}, "--resume: "},
		{[]string{"eval"}, "missing the run directory"},
		{[]string{"eval", "a", "b"}, `unexpected argument "b"`},
		{[]string{"eval", "--checkpoint"}, "flag needs an argument: -checkpoint"},
		{[]string{"predict", "run"}, "missing images"},
		{[]string{"predict", "run", "x.png", "--top-k", "0"}, "--top-k 0"},
		{[]string{"train", "--task", "cluster"}, `--task "cluster": want classify or autoencode`},
		{[]string{"train", "--task", "autoencode", "--model", "seed-cnn"}, "--model seed-cnn: --task autoencode trains conv-ae or conv-dae"},
		{[]string{"train", "--model", "conv-ae"}, "--model conv-ae is an autoencoder: train it with --task autoencode"},
		{[]string{"train", "--task", "autoencode", "--augment", "normalize=imagenet"}, "leave out normalize"},
		{[]string{"train", "--classes", "cat"}, `--classes "cat": want at least two names`},
		{[]string{"data"}, "missing a subcommand: fetch or stats"},
		{[]string{"data", "fetch"}, "missing the dataset name: one of cifar10, fashion-mnist, mnist"},
		{[]string{"data", "fetch", "imagenet"}, `unknown dataset "imagenet"`},
		{[]string{"data", "fetch", "mnist", "--retries", "-1"}, "--retries -1"},
		{[]string{"data", "stats"}, "missing the data folder"},
		{[]string{"data", "stats", "a", "--data", "b"}, `unexpected argument "a"`},
		{[]string{"data", "stats", dir, "--channels", "2"}, "--channels 2"},
		{[]string{"export"}, "missing the run directory"},
		{[]string{"export", "run", "--format", "pt"}, `--format "pt": want onnx or safetensors`},
		{[]string{"export", "run", "--format", "safetensors", "--dtype", "f8"}, `--dtype "f8": want f32, f16 or bf16`},
		{[]string{"export", "run", "--dtype", "f16"}, "--dtype f16: ONNX export writes float32"},
		{[]string{"import"}, "missing the weights file"},
		{[]string{"import", "w.safetensors", "--out", "r"}, "--model: name the architecture"},
		{[]string{"import", "w.safetensors", "--model", "seed-cnn"}, "--out: name the run directory"},
		{[]string{"import", "w.safetensors", "--model", "seed-cnn", "--out", "r", "--shape", "3,32,32"}, "give --data DIR, or both --shape"},
		{[]string{"import", "w.safetensors", "--model", "seed-cnn", "--out", "r", "--shape", "3,32", "--classes", "2"}, `--shape "3,32": want C,H,W`},
		{[]string{"import", "w.safetensors", "--model", "seed-cnn", "--out", "r", "--shape", "2,32,32", "--classes", "2"}, "2 channels"},
	} {
		code, _, stderr := kiln(t, context.Background(), tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("kiln %s: status %d, stderr %q; want status 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// TestTrainEvalPredict trains one epoch on a tiny image folder with
// settings from a YAML file and flags, checks the run directory, and uses
// the run with eval and predict.
func TestTrainEvalPredict(t *testing.T) {
	data, sample := tinyData(t)
	out := t.TempDir()
	cfgFile := filepath.Join(out, "settings.yaml")
	os.WriteFile(cfgFile, []byte("epochs: 3\nbatch_size: 8\nimage_size: 16\nchannels: 1\nlr: 0.002\nworkers: 2\n"), 0o644)
	args := []string{"train", "--config", cfgFile, "--data", data, "--epochs", "1", "--out", out, "--name", "tiny"}
	code, stdout, stderr := kiln(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("train: status %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Epoch [1/1], Loss: ", "Test accuracy of the best model", "confusion matrix"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	runDir := filepath.Join(out, "tiny")
	for _, f := range []string{run.ConfigFile, run.InfoFile, run.StateFile, run.LastFile, run.BestFile, run.MetricsCSV,
		run.MetricsJSON, run.ReportFile, run.LossPlot, run.AccPlot, run.ConfPlot} {
		if st, err := os.Stat(filepath.Join(runDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if ev, _ := filepath.Glob(filepath.Join(runDir, "events.out.tfevents.*")); len(ev) != 1 {
		t.Errorf("TensorBoard files %v", ev)
	}
	cfg, err := run.ReadRunConfig(runDir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Epochs != 1 || cfg.BatchSize != 8 || cfg.LR != 0.002 || cfg.Channels != 1 || cfg.Data != data {
		t.Errorf("config.json: flags and file not merged: %+v", cfg)
	}

	// The same name again is refused, and the run is untouched.
	code, _, stderr = kiln(t, context.Background(), args...)
	if code != 2 || !strings.Contains(stderr, "already exists") {
		t.Errorf("second train: status %d, %q", code, stderr)
	}

	code, stdout, stderr = kiln(t, context.Background(), "eval", runDir)
	if code != 0 || !strings.Contains(stdout, "Accuracy: ") || !strings.Contains(stdout, "(24 images)") || !strings.Contains(stdout, "precision") {
		t.Errorf("eval: status %d\n%s%s", code, stdout, stderr)
	}
	// A folder with some of the classes, in JSON.
	part := t.TempDir()
	writeFolder(t, part, 12, 3, 2)
	code, stdout, stderr = kiln(t, context.Background(), "eval", "--json", runDir, "--data", part)
	var rep evalReport
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil {
		t.Fatalf("eval --json: status %d, %v\n%s%s", code, err, stdout, stderr)
	}
	// Folder classes sort by name: the run's are cross, dstripes,
	// hstripes, ring, square, vstripes; part holds hstripes and vstripes.
	if rep.Images != 4 || len(rep.Classes) != 6 || rep.Classes[2].Support != 2 || rep.Classes[5].Support != 2 || rep.Classes[0].Support != 0 || rep.Data != part {
		t.Errorf("eval --json: %+v", rep)
	}

	code, stdout, stderr = kiln(t, context.Background(), "predict", runDir, sample, "--top-k", "2")
	if code != 0 || !strings.HasPrefix(stdout, sample+"\n  1. ") || !strings.Contains(stdout, "\n  2. ") || strings.Contains(stdout, "\n  3. ") {
		t.Errorf("predict: status %d\n%s%s", code, stdout, stderr)
	}
	bad := filepath.Join(t.TempDir(), "notes.png")
	os.WriteFile(bad, []byte("not a picture"), 0o644)
	code, stdout, stderr = kiln(t, context.Background(), "predict", "--json", runDir, bad, sample)
	var res []imageResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 1 {
		t.Fatalf("predict --json: status %d, %v\n%s", code, err, stdout)
	}
	if len(res) != 2 || !strings.Contains(res[0].Error, bad) || len(res[1].Predictions) != 3 || !strings.Contains(stderr, "1 of 2 images") {
		t.Errorf("predict --json: %+v, %q", res, stderr)
	}
	var sum float64
	for _, p := range res[1].Predictions {
		sum += p.Probability
	}
	if sum <= 0 || sum > 1+1e-9 || res[1].Predictions[0].Probability < res[1].Predictions[1].Probability {
		t.Errorf("probabilities %+v", res[1].Predictions)
	}
}

// TestInterruptAndResume cancels training (as Ctrl-C does) before its first
// step: status 130, a saved state, and --resume finishes the run.
func TestInterruptAndResume(t *testing.T) {
	data, _ := tinyData(t)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := kiln(t, ctx, "train", "--data", data, "--image-size", "16", "--channels", "1", "--epochs", "1",
		"--batch-size", "8", "--out", out, "--name", "r")
	runDir := filepath.Join(out, "r")
	if code != 130 || !strings.Contains(stderr, "kiln train --resume "+runDir) {
		t.Fatalf("interrupted train: status %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(runDir, run.StateFile)); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := kiln(t, context.Background(), "train", "--resume", runDir, "--workers", "1")
	if code != 0 || !strings.Contains(stdout, "resuming "+runDir+" at epoch 1, batch 0 of 6 (step 0)") || !strings.Contains(stdout, "Test accuracy") {
		t.Fatalf("resume: status %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = kiln(t, context.Background(), "train", "--resume", runDir)
	if code != 1 || !strings.Contains(stderr, "is finished") {
		t.Errorf("resuming a finished run: status %d, %q", code, stderr)
	}
	_ = color.Black
}
