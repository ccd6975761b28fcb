package train

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
)

// seedBatch returns a random CIFAR-shaped batch, as seed_pytorch.py
// --synthetic times.
func seedBatch(n int) *data.Batch {
	r := rand.New(rand.NewPCG(1, 2))
	b := &data.Batch{X: make([]float32, n*3*32*32), Shape: []int{n, 3, 32, 32}, Y: make([]int, n)}
	for i := range b.X {
		b.X[i] = float32(r.NormFloat64())
	}
	for i := range b.Y {
		b.Y[i] = r.IntN(10)
	}
	return b
}

// BenchmarkSeedCNNTrain times the seed CNN's training step at batch 32 with
// Adam, like seed_pytorch.py --synthetic; it reports images/s.
func BenchmarkSeedCNNTrain(b *testing.B) {
	m, err := models.NewSeedCNN(models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}, 0.2, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	c := NewClassifier(m, m.Params, nil, optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 1e-3}))
	nn.SetTraining(m, true)
	batch := seedBatch(32)
	for range 3 {
		c.TrainStep(batch)
	}
	b.ResetTimer()
	for b.Loop() {
		c.TrainStep(batch)
	}
	b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkSeedCNNInfer times evaluation-mode forward passes at batch 256.
func BenchmarkSeedCNNInfer(b *testing.B) {
	m, err := models.NewSeedCNN(models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}, 0.2, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	nn.SetTraining(m, false)
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	batch := seedBatch(256)
	x := tensor.FromSlice(batch.X, batch.Shape...)
	for b.Loop() {
		g.Reset()
		m.Forward(g, g.Const(x))
	}
	b.ReportMetric(float64(256*b.N)/b.Elapsed().Seconds(), "img/s")
}
