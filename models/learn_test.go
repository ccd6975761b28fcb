package models_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train"
)

// TestResNet8LearnsShapes trains ResNet-8 on generated pattern images and
// requires over 90% training accuracy: the residual blocks, batch norm and
// pooling together carry a gradient that learns. Evaluation mode, which
// normalises with the running statistics, must agree.
func TestResNet8LearnsShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for seconds; -short runs the golden and gradient tests only")
	}
	ds := synth.New(288, 1, 12, 12, 7)
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New("resnet8", models.Shape{Channels: 1, Height: 12, Width: 12, Classes: len(synth.Classes)}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ps := m.ParamSet()
	c := train.NewClassifier(m, ps, nil, optim.NewAdam(ps.Data, ps.Grad, optim.AdamConfig{LR: 3e-3}))
	loop := &train.Loop{Learner: c, Train: l, Epochs: 6}
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	hist := loop.History
	first, last := hist[0], hist[len(hist)-1]
	t.Logf("loss %.3f -> %.3f, training accuracy %.3f -> %.3f", first.TrainLoss, last.TrainLoss, first.TrainAcc, last.TrainAcc)
	if last.TrainAcc <= 0.9 {
		t.Errorf("training accuracy %.3f after %d epochs, want > 0.9", last.TrainAcc, len(hist))
	}
	if last.TrainLoss >= first.TrainLoss {
		t.Errorf("loss did not fall: %.3f -> %.3f", first.TrainLoss, last.TrainLoss)
	}
	eval, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 96})
	r, err := train.Evaluate(context.Background(), c, eval, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("evaluation accuracy %.3f", r.Accuracy)
	if r.Accuracy <= 0.9 {
		t.Errorf("evaluation accuracy %.3f, want > 0.9", r.Accuracy)
	}
}
