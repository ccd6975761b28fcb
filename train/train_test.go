package train

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/optim"
)

func newSeedCNN(t testing.TB, seed uint64) *Classifier {
	m, err := models.NewSeedCNN(models.Shape{Channels: 1, Height: 20, Width: 20, Classes: len(synth.Classes)}, 0.2, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	opt := optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 2e-3})
	return NewClassifier(m, m.Params, nil, opt)
}

// TestSeedCNNLearnsShapes trains the seed CNN on a generated but learnable
// image set and requires over 95% training accuracy, then checks that
// evaluation agrees.
func TestSeedCNNLearnsShapes(t *testing.T) {
	ds := synth.New(480, 1, 20, 20, 3)
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := newSeedCNN(t, 1)
	loop := &Loop{Learner: c, Train: l, Epochs: 8}
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	hist := loop.History
	last := hist[len(hist)-1]
	t.Logf("epoch losses: first %.3f, last %.3f; last training accuracy %.3f", hist[0].TrainLoss, last.TrainLoss, last.TrainAcc)
	if last.TrainAcc <= 0.95 {
		t.Errorf("training accuracy %.3f after %d epochs, want > 0.95", last.TrainAcc, len(hist))
	}
	if last.TrainLoss >= hist[0].TrainLoss {
		t.Errorf("loss did not fall: %.3f -> %.3f", hist[0].TrainLoss, last.TrainLoss)
	}
	eval, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 64})
	r, err := Evaluate(context.Background(), c, eval, synth.Classes)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accuracy < 0.95 || r.Confusion.Total() != ds.Len() {
		t.Errorf("evaluation accuracy %.3f over %d images", r.Accuracy, r.Confusion.Total())
	}
}

// TestTrainStepAllocatesNothing checks that a steady-state training step of
// the seed CNN makes no heap allocation.
func TestTrainStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	ds := synth.New(32, 1, 20, 20, 3)
	l, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32})
	it, err := l.Epoch(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if !it.Next() {
		t.Fatal(it.Err())
	}
	b := it.Batch()
	c := newSeedCNN(t, 2)
	c.TrainStep(b)
	if n := testing.AllocsPerRun(5, func() { c.TrainStep(b) }); n != 0 {
		t.Errorf("a training step allocates %.0f times", n)
	}
}

func TestConfusionScores(t *testing.T) {
	c := NewConfusion([]string{"a", "b", "c"})
	for _, p := range [][2]int{{0, 0}, {0, 0}, {0, 1}, {1, 1}, {2, 1}, {2, 2}} {
		c.Add(p[0], p[1])
	}
	s := c.Scores()
	if s[0].Precision != 1 || s[0].Recall != 2.0/3 || s[1].Precision != 1.0/3 || s[1].Recall != 1 || s[2].F1 != 2.0/3 {
		t.Errorf("scores %+v", s)
	}
	if c.Accuracy() != 4.0/6 {
		t.Errorf("accuracy %v", c.Accuracy())
	}
}
