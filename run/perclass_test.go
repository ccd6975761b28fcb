package run

import (
	"context"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train"
)

// TestPerClassCallback adds the per-class accuracy callback to a loop, as
// a program embedding kiln would, and checks that each row of its CSV
// agrees with the epoch's validation accuracy: the classes' recalls,
// weighted by their support, add up to it.
func TestPerClassCallback(t *testing.T) {
	ds := synth.New(192, 1, 20, 20, 3)
	val := synth.New(96, 1, 20, 20, 4)
	m, err := models.NewSeedCNN(models.Shape{Channels: 1, Height: 20, Width: 20, Classes: len(synth.Classes)}, 0.2, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	tl, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 1})
	vl, _ := data.NewLoader(val, data.LoaderOptions{BatchSize: 64})
	opt := optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 2e-3})
	dir := t.TempDir()
	loop := &train.Loop{Learner: train.NewClassifier(m, m.Params, nil, opt), Train: tl, Epochs: 3, Val: vl, Classes: synth.Classes,
		Callbacks: []train.Callback{&PerClass{Dir: dir}}}
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, PerClassCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+loop.Epochs || len(rows[0]) != 1+len(synth.Classes) {
		t.Fatalf("%d rows of %d columns, want %d of %d", len(rows), len(rows[0]), 1+loop.Epochs, 1+len(synth.Classes))
	}
	for e, row := range rows[1:] {
		st := loop.History[e]
		counts := st.ValConfusion.Counts
		var correct float64
		for c, cell := range row[1:] {
			recall, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				t.Fatal(err)
			}
			support := 0
			for _, n := range counts[c] {
				support += n
			}
			correct += recall * float64(support)
		}
		if acc := correct / float64(val.Len()); row[0] != strconv.Itoa(e+1) || acc < st.ValAcc-1e-4 || acc > st.ValAcc+1e-4 {
			t.Errorf("epoch %s: per-class accuracies add up to %.5f, the epoch's validation accuracy is %.5f", row[0], acc, st.ValAcc)
		}
	}
}
