package source

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/run"
)

func TestDetectTextSources(t *testing.T) {
	dir := t.TempDir()
	flat := filepath.Join(dir, "flat")
	writeTextTree(t, flat, 12, 1)
	split := filepath.Join(dir, "split")
	writeTextTree(t, filepath.Join(split, "train"), 12, 2)
	writeTextTree(t, filepath.Join(split, "test"), 6, 3)
	lines := filepath.Join(dir, "w.tsv")
	writeWordLines(t, lines, 5, 4)
	plain := filepath.Join(dir, "book.txt")
	os.WriteFile(plain, []byte("\n\nIt was a dark and stormy night.\n"), 0o644)
	for _, tc := range []struct {
		path   string
		format Format
		split  bool
		err    string
	}{
		{flat, FormatTextFolder, false, ""},
		{split, FormatTextFolder, true, ""},
		{lines, FormatTextLines, false, ""},
		{plain, "", false, "not a lines file"},
		{filepath.Join(dir, "missing"), "", false, "not a folder"},
	} {
		s, err := DetectSource(tc.path)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error saying %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || s.Format != tc.format || s.Split != tc.split {
			t.Errorf("%s: %+v, %v; want format %s, split %v", tc.path, s, err, tc.format, tc.split)
			continue
		}
		if _, _, err := s.Open(true, OpenOptions{}); err == nil {
			t.Errorf("%s: Source.Open opened texts as images", tc.path)
		}
	}
}

// TestLoadTextSplits checks that the test, validation and training texts
// are disjoint and cover the data, and that the vocabulary and length come
// from the training texts alone.
func TestLoadTextSplits(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "w.tsv")
	writeWordLines(t, lines, 300, 1)
	// A letter that only one text has: it must be unknown unless that
	// text is a training text.
	b, _ := os.ReadFile(lines)
	os.WriteFile(lines, append(b, []byte("q\tqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\nab\tÆ\n")...), 0o644)
	cfg := run.DefaultConfig()
	cfg.Data, cfg.Model, cfg.Seed, cfg.ValSplit, cfg.TestSplit = lines, "lstm-classifier", 3, 0.2, 0.1
	ds, err := LoadDatasets(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 218 || ds.Val.Len() != 54 || ds.Test.Len() != 30 || !slices.Equal(ds.Classes, []string{"ab", "q", "xyz"}) {
		t.Fatalf("%d training, %d validation, %d test texts of %v", ds.Train.Len(), ds.Val.Len(), ds.Test.Len(), ds.Classes)
	}
	enc := ds.Encoder
	x := make([]float32, enc.MaxLen)
	texts := func(d interface {
		Len() int
		Get(int, []float32, *rand.Rand) (int, error)
	}) []string {
		var out []string
		for i := range d.Len() {
			y, err := d.Get(i, x, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(y, x))
		}
		return out
	}
	if n := len(texts(ds.Train)) + len(texts(ds.Val)) + len(texts(ds.Test)); n != 302 {
		t.Errorf("%d texts in the splits, want 302", n)
	}
	trainHasAE := false
	for _, s := range texts(ds.Train) {
		trainHasAE = trainHasAE || strings.Contains(s, fmt.Sprint(enc.Vocab.ID("Æ")))
	}
	if id := enc.Vocab.ID("Æ"); (id != text.Unk) != trainHasAE {
		t.Errorf("Æ has id %d, but a training text holds it: %v", id, trainHasAE)
	}
	if enc.MaxLen != 8 {
		t.Errorf("max length %d, want 8 (the longest made-up word; the 40-letter one is a single outlier)", enc.MaxLen)
	}
	// The same settings give the same split; NoTest keeps the test texts
	// out of training all the same.
	cfg.NoTest = true
	again, err := LoadDatasets(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Test != nil || !slices.Equal(texts(again.Train), texts(ds.Train)) {
		t.Error("no_test changed the training texts, or kept a test set")
	}
}

func writeWordLines(t testing.TB, path string, n int, seed uint64) {
	t.Helper()
	if err := synth.WriteWordLines(path, n, seed); err != nil {
		t.Fatal(err)
	}
}

func writeTextTree(t testing.TB, dir string, n int, seed uint64) {
	t.Helper()
	if err := synth.WriteWordTree(dir, n, seed); err != nil {
		t.Fatal(err)
	}
}
