package main

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/run"
)

// The bad inputs of issue 15, tried as a new user would: each gives a
// clear error naming the flag or file, status 2 where the command line is
// wrong, and leaves nothing written or overwritten.

// dirState is every file under dir with its SHA-256, to check that a
// failed command changed nothing.
func dirState(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	st := map[string][32]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			st[p] = sha256.Sum256(b)
		}
		return nil
	})
	return st
}

func sameState(t *testing.T, what string, before, after map[string][32]byte) {
	t.Helper()
	for p, h := range after {
		if b, ok := before[p]; !ok {
			t.Errorf("%s: wrote %s", what, p)
		} else if b != h {
			t.Errorf("%s: changed %s", what, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s: removed %s", what, p)
		}
	}
}

// TestBadSettings tries wrong flags, bad config files and settings that
// cannot work: status 2, the culprit named, and no run directory made.
func TestBadSettings(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeFolder(t, data, 12, 1, 2)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	one := filepath.Join(dir, "one")
	writeFolder(t, one, 6, 1, 1)
	unknownTest := filepath.Join(dir, "unknowntest")
	writeFolder(t, filepath.Join(unknownTest, "train"), 12, 1, 2)
	writeFolder(t, filepath.Join(unknownTest, "test"), 12, 2, 3) // a third class only in test/
	out := filepath.Join(dir, "runs")
	base := []string{"train", "--data", data, "--model", "mlp", "--epochs", "1", "--out", out, "--workers", "1"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--epoch", "3"}, "flag provided but not defined: -epoch"},
		{[]string{"train", "--lr=0.1", "--epochs"}, "flag needs an argument: -epochs"},
		{[]string{"train", "--epochs", "-2"}, "--epochs -2: want at least 1"},
		{[]string{"train", "--batch-size", "0"}, "--batch-size 0: want at least 1"},
		{[]string{"train", "--batch-size", "-8"}, "--batch-size -8: want at least 1"},
		{[]string{"train", "--lr", "0"}, "--lr 0: want a positive learning rate"},
		{[]string{"train", "--lr", "-0.01"}, "--lr -0.01: want a positive learning rate"},
		{[]string{"train", "--decode", "pillow"}, `--decode "pillow": want view`},
		{[]string{"train", "--config", write("unknown.json", `{"epochs": 1, "learning_rate": 0.1}`)}, `unknown.json: json: unknown field "learning_rate"`},
		{[]string{"train", "--config", write("unknown.yaml", "epochs: 1\ncolour: red\n")}, `unknown.yaml: json: unknown field "colour"`},
		{[]string{"train", "--config", write("zero.json", `{"epochs": 0}`)}, "--epochs 0: want at least 1"},
		{[]string{"train", "--config", write("negbatch.yaml", "batch_size: -1\n")}, "--batch-size -1: want at least 1"},
		{[]string{"train", "--config", write("broken.json", `{"epochs": 1,`)}, "broken.json: unexpected EOF"},
		{append(base[:1:1], "--data", filepath.Join(dir, "nowhere"), "--out", out), "--data " + filepath.Join(dir, "nowhere") + ": not a folder"},
		{append(base[:1:1], "--data", empty, "--out", out), "--data " + empty + ": found no image files"},
		{append(base[:1:1], "--data", one, "--model", "mlp", "--out", out), "--data " + one + ": 1 class (hstripes); a classifier needs at least two class folders"},
		{append(base[:1:1], "--data", unknownTest, "--model", "mlp", "--out", out), "the test set has classes the training set lacks: dstripes"},
		{append(append([]string(nil), base...), "--name", "a/b"), `--name "a/b": want a plain folder name`},
	} {
		code, _, stderr := kiln(t, context.Background(), tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("kiln %s: status %d, stderr %q; want status 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("failed commands left %d entries in %s", len(ents), out)
	}

	// A test/ folder with only some of the training classes is fine: its
	// labels are numbered as the training set's.
	part := filepath.Join(dir, "part")
	writeFolder(t, filepath.Join(part, "train"), 18, 1, 3)
	writeFolder(t, filepath.Join(part, "test"), 6, 2, 2)
	code, stdout, stderr := kiln(t, context.Background(), "train", "--data", part, "--model", "mlp", "--epochs", "1",
		"--out", out, "--name", "part", "--workers", "1", "--val-split", "0")
	if code != 0 || !strings.Contains(stdout, "Test accuracy") {
		t.Errorf("test/ with 2 of 3 classes: status %d\n%s%s", code, stdout, stderr)
	}
}

// tinyRun trains one epoch of an MLP into out/name and returns the run
// directory.
func tinyRun(t *testing.T, data, out, name string) string {
	t.Helper()
	code, _, stderr := kiln(t, context.Background(), "train", "--data", data, "--model", "mlp", "--epochs", "1", "--image-size", "8",
		"--channels", "1", "--out", out, "--name", name, "--workers", "1")
	if code != 0 {
		t.Fatalf("train %s: status %d: %s", name, code, stderr)
	}
	return filepath.Join(out, name)
}

// TestCorruptCheckpoint truncates and scrambles a run's checkpoints:
// resume, eval, predict and --init each fail naming the file, and nothing
// is written.
func TestCorruptCheckpoint(t *testing.T) {
	data, sample := tinyData(t)
	out := t.TempDir()
	dir := tinyRun(t, data, out, "r")
	state := filepath.Join(dir, run.StateFile)
	b, _ := os.ReadFile(state)
	os.WriteFile(state, b[:len(b)/3], 0o644)
	best := filepath.Join(dir, run.BestFile)
	os.WriteFile(best, []byte("\xff\xff\xff\xff\xff\xff\xff\x7fnot a safetensors file"), 0o644)
	before := dirState(t, out)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--resume", dir, "--epochs", "2"}, state},
		{[]string{"eval", dir}, best},
		{[]string{"predict", dir, sample}, best},
		{[]string{"train", "--data", data, "--model", "mlp", "--image-size", "8", "--channels", "1", "--out", out, "--name", "init",
			"--init", best}, "--init " + best},
	} {
		code, _, stderr := kiln(t, context.Background(), tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("kiln %s: status %d, stderr %q; want a failure naming %s", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	sameState(t, "commands on a corrupt run", before, dirState(t, out))
}

// TestOneNameAtOnce starts two runs with one --name at once (one of them
// makes the directory, the other is refused) and resumes a run that is
// training (here: locked by this test, as a training process would hold
// it): status 2 naming the run directory, and nothing written into it.
func TestOneNameAtOnce(t *testing.T) {
	data := t.TempDir()
	writeFolder(t, data, 12, 1, 2)
	out := t.TempDir()
	args := []string{"train", "--data", data, "--model", "mlp", "--epochs", "1", "--image-size", "8", "--channels", "1",
		"--out", out, "--name", "same", "--workers", "1"}
	var wg sync.WaitGroup
	codes := make([]int, 2)
	errs := make([]string, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, errs[i] = kiln(t, context.Background(), args...)
		}()
	}
	wg.Wait()
	if codes[0]+codes[1] != 2 || !strings.Contains(errs[0]+errs[1], "already exists") {
		t.Errorf("two runs named same: statuses %v, stderr %q; want one 0 and one 2 saying it exists", codes, errs)
	}

	dir := filepath.Join(out, "same")
	if err := run.LockRun(dir); err != nil {
		t.Fatal(err)
	}
	defer run.UnlockRun(dir)
	before := dirState(t, dir)
	code, _, stderr := kiln(t, context.Background(), "train", "--resume", dir, "--epochs", "3")
	if code != 2 || !strings.Contains(stderr, "run directory "+dir+" is in use") {
		t.Errorf("resume of a run in use: status %d, %q", code, stderr)
	}
	sameState(t, "resume of a run in use", before, dirState(t, dir))
}

// TestDataStatsBadFolders checks kiln data stats on a missing and an
// empty folder: status 2 naming it.
func TestDataStatsBadFolders(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Join(dir, "missing"), dir} {
		code, _, stderr := kiln(t, context.Background(), "data", "stats", d)
		if code != 2 || !strings.Contains(stderr, d) {
			t.Errorf("data stats %s: status %d, %q", d, code, stderr)
		}
	}
}

// readableCheckpoints checks that every safetensors file in dir reads
// back whole, and that no temporary file is left.
func readableCheckpoints(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".safetensors"):
			if _, err := checkpoint.Read(p); err != nil {
				t.Errorf("half-written checkpoint: %v", err)
			}
		case strings.Contains(e.Name(), ".tmp"):
			t.Errorf("temporary file left: %s", p)
		}
	}
}
