package bench

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train"
)

// BenchmarkResNet8Train times training steps of the CIFAR ResNet-8 (3x3
// convolutions padded by 1, batch normalisation, residual adds) at batch
// 32 with Adam: the convolutions' padded paths and the per-channel work
// that the seed CNN does not have.
func BenchmarkResNet8Train(b *testing.B) {
	m, err := models.NewResNet(models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}, 8, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		b.Fatal(err)
	}
	nn.SetTraining(m, true)
	timeSteps(b, train.NewClassifier(m, m.Params, nil, optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 1e-3})))
}
