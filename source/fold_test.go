package source

import (
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/run"
)

// TestSplitFold checks that the folds' validation sets partition the
// training data, are stratified, and never overlap their training sets.
func TestSplitFold(t *testing.T) {
	full := synth.New(40, 1, 8, 8, 1) // 7 of classes 0-3, 6 of classes 4-5
	seen := make([]int, full.Len())
	for fold := 1; fold <= 3; fold++ {
		cfg := run.Config{Folds: 3, Fold: fold, Seed: 5}
		ds := &Datasets{}
		if err := splitFold(ds, full, full, cfg); err != nil {
			t.Fatal(err)
		}
		tr, va := ds.Train.(*data.Subset), ds.Val.(*data.Subset)
		if tr.Len()+va.Len() != full.Len() || va.Len() < 13 || va.Len() > 14 {
			t.Errorf("fold %d: %d training, %d validation examples", fold, tr.Len(), va.Len())
		}
		labels, _ := data.Labels(va)
		counts, _ := data.ClassCounts(labels, len(synth.Classes))
		for c, n := range counts {
			if n < 2 || n > 3 {
				t.Errorf("fold %d: class %d has %d validation examples, want 2 or 3", fold, c, n)
			}
		}
		in := map[int]bool{}
		for _, j := range va.Indices() {
			seen[j]++
			in[j] = true
		}
		for _, j := range tr.Indices() {
			if in[j] {
				t.Errorf("fold %d: example %d is in both sets", fold, j)
			}
		}
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("example %d validates %d folds, want 1", i, n)
		}
	}
	if err := splitFold(&Datasets{}, full, full, run.Config{Folds: 41, Fold: 1}); err == nil || !strings.Contains(err.Error(), "--folds 41") {
		t.Errorf("41 folds of 40 examples: %v", err)
	}
}
