package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/task"
)

// lmPattern is the tiny text the language model learns: after "l" comes
// "l", "o" or "d" depending on what came before, so the model needs some
// memory, not just the last character.
const lmPattern = "hello world. "

// TestLMTrainAndSample trains char-lm on a repetitive text through the
// command line and requires the loss to fall, greedy sampling to continue
// the pattern, sampling with a seed to repeat itself, and eval to report
// bits per character.
func TestLMTrainAndSample(t *testing.T) {
	book := filepath.Join(t.TempDir(), "book.txt")
	os.WriteFile(book, []byte(strings.Repeat(lmPattern, 250)), 0o644)
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "train", "--task", "lm", "--data", book, "--seq-len", "26", "--epochs", "4",
		"--batch-size", "16", "--lr", "0.02", "--hidden", "32", "--embed-dim", "8", "--workers", "2", "--out", out, "--name", "lm")
	if code != 0 {
		t.Fatalf("train: status %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"training char-lm", "vocabulary of 11 characters", "bits/char", "perplexity", "chars/s",
		"Loss of the best model on the test text", "Sample (temperature 0.8"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	runDir := filepath.Join(out, "lm")
	for _, f := range []string{source.EncoderFile, task.SampleFile, run.ReportFile, run.LossPlot, run.BestFile} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(runDir, run.AccPlot)); err == nil {
		t.Errorf("a language model run has %s", run.AccPlot)
	}
	csv, _ := os.ReadFile(filepath.Join(runDir, run.MetricsCSV))
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")
	loss := func(row string) float64 {
		v, _ := strconv.ParseFloat(strings.Split(row, ",")[2], 64)
		return v
	}
	if len(rows) != 5 || !(loss(rows[4]) < 0.5*loss(rows[1])) {
		t.Errorf("training loss did not fall to under half its first epoch's:\n%s", csv)
	}

	// Greedy sampling continues the pattern from any point of it.
	code, stdout, stderr = kiln(t, context.Background(), "sample", runDir, "--prime", "hel", "--length", "40", "--temperature", "0")
	want := ("hel" + strings.Repeat(lmPattern, 4)[3:])[:43]
	if code != 0 || strings.TrimSuffix(stdout, "\n") != want {
		t.Errorf("greedy sample: status %d\n%q\nwant\n%q\n%s", code, stdout, want, stderr)
	}
	sample := func(seed string) string {
		t.Helper()
		code, stdout, stderr := kiln(t, context.Background(), "sample", runDir, "--length", "200", "--temperature", "1.5", "--seed", seed)
		if code != 0 || len(stdout) < 200 {
			t.Fatalf("sample --seed %s: status %d\n%s%s", seed, code, stdout, stderr)
		}
		return stdout
	}
	if a, b := sample("7"), sample("7"); a != b {
		t.Errorf("the same seed gave\n%q\nand\n%q", a, b)
	}
	if sample("7") == sample("8") {
		t.Error("seeds 7 and 8 gave the same 200 characters at temperature 1.5")
	}

	code, stdout, _ = kiln(t, context.Background(), "eval", runDir, "--json")
	var rep lmEvalReport
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil || !(rep.BitsPerChar > 0 && rep.BitsPerChar < 1) || !strings.Contains(rep.Data, "test tail") {
		t.Errorf("eval: status %d, %+v (want under 1 bit per character)\n%s", code, rep, stdout)
	}
	other := filepath.Join(t.TempDir(), "other.txt")
	os.WriteFile(other, []byte(strings.Repeat("world hello. ", 20)), 0o644)
	code, stdout, _ = kiln(t, context.Background(), "eval", runDir, "--data", other)
	if code != 0 || !strings.Contains(stdout, "bits/char") || !strings.Contains(stdout, other) {
		t.Errorf("eval --data: status %d\n%s", code, stdout)
	}
	code, _, stderr = kiln(t, context.Background(), "predict", runDir, "--text", "hello")
	if code == 0 {
		t.Errorf("predict with a language model succeeded")
	}
	_ = stderr
}
