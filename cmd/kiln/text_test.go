package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
)

// madeUpWords draws n words of three made-up languages, each with its own
// letters, cycling through the languages.
func madeUpWords(n int, seed uint64) (classes, words []string) {
	langs := [][2]string{{"ab", "abn"}, {"q", "qom"}, {"xyz", "xyzm"}}
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		l := langs[i%len(langs)]
		w := make([]byte, 3+rng.IntN(6))
		for j := range w {
			w[j] = l[1][rng.IntN(len(l[1]))]
		}
		classes, words = append(classes, l[0]), append(words, string(w))
	}
	return classes, words
}

// writeTextFolder writes n made-up words as dir/<class>/<i>.txt.
func writeTextFolder(t *testing.T, dir string, n int, seed uint64) {
	t.Helper()
	classes, words := madeUpWords(n, seed)
	for i, w := range words {
		sub := filepath.Join(dir, classes[i])
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%03d.txt", i)), []byte(w+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTextTrainEvalPredict trains lstm-classifier on a text folder with
// train/ and test/ and gru-classifier on a lines file of words, then
// evaluates and predicts with both runs through the command line.
func TestTextTrainEvalPredict(t *testing.T) {
	data := t.TempDir()
	writeTextFolder(t, filepath.Join(data, "train"), 240, 1)
	writeTextFolder(t, filepath.Join(data, "test"), 30, 2)
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "train", "--data", data, "--epochs", "2", "--batch-size", "16", "--lr", "0.01",
		"--hidden", "16", "--embed-dim", "8", "--workers", "2", "--out", out, "--name", "folder")
	if code != 0 {
		t.Fatalf("train: status %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"training lstm-classifier", "text folder " + data, "vocabulary of 11 tokens", "texts of [8]",
		"Epoch [2/2], Loss: ", "texts/s", "Test accuracy of the best model", "confusion matrix"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	runDir := filepath.Join(out, "folder")
	for _, f := range []string{source.EncoderFile, run.ConfPlot, run.AccPlot, run.ReportFile, run.BestFile} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Error(err)
		}
	}
	enc, err := text.LoadEncoder(filepath.Join(runDir, source.EncoderFile))
	if err != nil || enc.MaxLen != 8 || enc.Tokenizer.Level != text.Char {
		t.Errorf("encoder %+v, %v", enc, err)
	}
	acc := func(s string) float64 {
		var a float64
		if i := strings.Index(s, "Accuracy: "); i >= 0 {
			fmt.Sscanf(s[i:], "Accuracy: %g%%", &a)
		}
		return a
	}
	code, stdout, stderr = kiln(t, context.Background(), "eval", runDir)
	if code != 0 || !strings.Contains(stdout, "on "+filepath.Join(data, "test")) || acc(stdout) < 80 {
		t.Errorf("eval: status %d, accuracy %.1f%% (want 80%% or more)\n%s%s", code, acc(stdout), stdout, stderr)
	}

	// The lines file: word tokens (one per line here), a held-out test
	// set, and eval and predict of texts and files.
	classes, words := madeUpWords(300, 3)
	var b strings.Builder
	for i, w := range words {
		fmt.Fprintf(&b, "%s\t%s\n", classes[i], w)
	}
	lines := filepath.Join(t.TempDir(), "words.tsv")
	os.WriteFile(lines, []byte(b.String()), 0o644)
	code, stdout, stderr = kiln(t, context.Background(), "train", "--data", lines, "--model", "gru-classifier", "--epochs", "2",
		"--batch-size", "16", "--lr", "0.01", "--hidden", "16", "--embed-dim", "8", "--test-split", "0.2", "--out", out, "--name", "lines")
	if code != 0 || !strings.Contains(stdout, "lines file "+lines) || !strings.Contains(stdout, "(60 texts)") {
		t.Fatalf("train on lines: status %d\n%s\n%s", code, stdout, stderr)
	}
	runDir = filepath.Join(out, "lines")
	code, stdout, _ = kiln(t, context.Background(), "eval", runDir, "--json")
	var rep evalReport
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Images != 60 || rep.Accuracy < 0.8 {
		t.Errorf("eval --json: status %d, %+v\n%s", code, rep, stdout)
	}
	code, stdout, _ = kiln(t, context.Background(), "eval", runDir, "--data", data)
	if code != 0 || !strings.Contains(stdout, "(30 ") {
		t.Errorf("eval --data folder: status %d\n%s", code, stdout)
	}
	file := filepath.Join(t.TempDir(), "word.txt")
	os.WriteFile(file, []byte("\uFEFFxyzzy\n"), 0o644)
	code, stdout, stderr = kiln(t, context.Background(), "predict", runDir, "--text", "qoqoqom", "--text", "banana", file, "--top-k", "1")
	want := "\"qoqoqom\"\n  1. q  \n\"banana\"\n  1. ab \n" + file + "\n  1. xyz"
	if code != 0 || !sameWords(stdout, want) {
		t.Errorf("predict: status %d\n%s%s\nwant the classes of\n%s", code, stdout, stderr, want)
	}
	code, _, stderr = kiln(t, context.Background(), "predict", runDir, filepath.Join(t.TempDir(), "missing.txt"))
	if code != 1 || !strings.Contains(stderr, "missing.txt") {
		t.Errorf("predict of a missing file: status %d, %q", code, stderr)
	}
	code, _, stderr = kiln(t, context.Background(), "sample", runDir)
	if code != 2 || !strings.Contains(stderr, "needs a language model") {
		t.Errorf("sample of a classifier: status %d, %q", code, stderr)
	}
}

// sameWords compares outputs word by word, ignoring the probabilities
// (words ending in %) and spacing.
func sameWords(got, want string) bool {
	var g []string
	for _, f := range strings.Fields(got) {
		if !strings.HasSuffix(f, "%") {
			g = append(g, f)
		}
	}
	return strings.Join(g, " ") == strings.Join(strings.Fields(want), " ")
}

// TestTextUsageErrors checks the text flags' messages.
func TestTextUsageErrors(t *testing.T) {
	img := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--tokenize", "bpe"}, `--tokenize "bpe"`},
		{[]string{"train", "--max-len", "-2"}, "--max-len -2"},
		{[]string{"train", "--test-split", "1"}, "--test-split 1"},
		{[]string{"train", "--layers", "2"}, "size text models"},
		{[]string{"train", "--task", "lm", "--model", "seed-cnn"}, "--task lm trains char-lm"},
		{[]string{"train", "--task", "lm", "--tokenize", "word"}, "character-level"},
		{[]string{"predict", img, "--text", "x"}, "not a kiln run directory"},
		{[]string{"sample"}, "missing the run directory"},
		{[]string{"sample", "a", "b"}, `unexpected argument "b"`},
		{[]string{"sample", "a", "--temperature", "-1"}, "--temperature -1"},
		{[]string{"sample", "a", "--length", "-1"}, "--length -1"},
	} {
		code, _, stderr := kiln(t, context.Background(), tc.args...)
		wantCode := 2
		if tc.args[0] == "predict" {
			wantCode = 1
		}
		if code != wantCode || !strings.Contains(stderr, tc.want) {
			t.Errorf("kiln %s: status %d, stderr %q; want status %d and %q", strings.Join(tc.args, " "), code, stderr, wantCode, tc.want)
		}
	}
}
