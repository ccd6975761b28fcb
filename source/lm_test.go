package source

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
)

// TestLMWindows checks that the windows tile the text with their targets
// one step ahead, and that jittered windows stay inside the text.
func TestLMWindows(t *testing.T) {
	ids := make([]int32, 23)
	for i := range ids {
		ids[i] = int32(i + 2)
	}
	w := &LMWindows{ids: ids, seqLen: 5}
	if w.Len() != 4 || !slices.Equal(w.Shape(), []int{6}) || w.characters() != 20 {
		t.Fatalf("%d windows of %v", w.Len(), w.Shape())
	}
	x := make([]float32, 6)
	for i := range w.Len() {
		if _, err := w.Get(i, x, rand.New(rand.NewPCG(1, 1))); err != nil {
			t.Fatal(err)
		}
		for j, v := range x {
			if v != float32(i*5+j+2) {
				t.Fatalf("window %d: %v", i, x)
			}
		}
	}
	w.jitter = true
	moved := false
	for i := range w.Len() {
		for s := range uint64(50) {
			w.Get(i, x, rand.New(rand.NewPCG(s, 2)))
			start := int(x[0]) - 2
			if start < i*5 || start >= i*5+5 || start+6 > len(ids) || x[5] != x[0]+5 {
				t.Fatalf("jittered window %d starts at %d: %v", i, start, x)
			}
			moved = moved || start != i*5
		}
	}
	if !moved {
		t.Error("jitter never moved a window")
	}
	if _, err := w.Get(4, x, nil); err == nil {
		t.Error("window 4 of 4 was served")
	}
}

// TestReadLMText reads a folder of texts: sorted, joined by blank lines,
// with byte order marks and CRLF line ends gone; bad UTF-8 is an error
// naming the file.
func TestReadLMText(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "b"), 0o755)
	os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, "b", "2.txt"), []byte("second\r\nline\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("\uFEFFfirst"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.md"), []byte("skipped"), 0o644)
	os.WriteFile(filepath.Join(dir, ".git", "x.txt"), []byte("hidden"), 0o644)
	s, what, err := readLMText(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s != "first\n\nsecond\nline\n" || !strings.Contains(what, "2 text files") {
		t.Errorf("read %q (%s)", s, what)
	}
	bad := filepath.Join(dir, "b", "3.txt")
	os.WriteFile(bad, []byte("ok \xff"), 0o644)
	if _, _, err := readLMText(dir); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "offset 3") {
		t.Errorf("bad UTF-8: %v", err)
	}
	if _, _, err := readLMText(filepath.Join(dir, "b", "missing.txt")); err == nil {
		t.Error("a missing file was read")
	}
}

// TestLoadLMSplits checks the order of the parts (head, validation, tail)
// and that the vocabulary is the head's.
func TestLoadLMSplits(t *testing.T) {
	book := filepath.Join(t.TempDir(), "book.txt")
	os.WriteFile(book, []byte(strings.Repeat("abcd", 200)+"XYZ"+strings.Repeat("abcd", 49)), 0o644)
	cfg := run.DefaultConfig()
	cfg.Data, cfg.Task, cfg.Model, cfg.SeqLen, cfg.ValSplit, cfg.TestSplit = book, run.TaskLM, models.CharLMName, 10, 0.1, 0.2
	ds, err := LoadDatasets(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 999 characters: 699 training, 100 validation, 200 test (rounded).
	tr, va, te := ds.Train.(*LMWindows), ds.Val.(*LMWindows), ds.Test.(*LMWindows)
	if len(tr.ids) != 699 || len(va.ids) != 100 || len(te.ids) != 200 || !tr.jitter || va.jitter || te.jitter {
		t.Fatalf("parts of %d, %d and %d characters", len(tr.ids), len(va.ids), len(te.ids))
	}
	if v := ds.Encoder.Vocab; v.Len() != 6 || v.ID("X") != 1 {
		t.Errorf("vocabulary %v: want the head's a, b, c, d and X unknown", v.Tokens())
	}
	cfg.SeqLen = 150
	if _, err := LoadDatasets(cfg, nil); err == nil || !strings.Contains(err.Error(), "--val-split") {
		t.Errorf("windows longer than the validation part: %v", err)
	}
}
