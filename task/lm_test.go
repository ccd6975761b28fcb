package task

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
)

// TestLanguageModelLearns trains char-lm with the LanguageModel step on a
// periodic text and requires the held-out loss to fall below a tenth of a
// bit per character.
func TestLanguageModelLearns(t *testing.T) {
	ids := make([]int32, 2000)
	for i := range ids {
		ids[i] = int32(2 + i%7)
	}
	m, err := models.NewCharLM(9, models.CharLMConfig{EmbedDim: 4, Hidden: 16}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	opt := optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 0.02})
	lm := NewLanguageModel(m, opt)
	tl, _ := data.NewLoader(source.NewLMWindows(ids[:1600], 20, true), data.LoaderOptions{BatchSize: 16, Shuffle: true, Seed: 1})
	val, _ := data.NewLoader(source.NewLMWindows(ids[1600:], 20, false), data.LoaderOptions{BatchSize: 16})
	loop := &train.Loop{Learner: lm, Train: tl, Epochs: 12, Val: val}
	if err := loop.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	hist := loop.History
	first, last := hist[0], hist[len(hist)-1]
	if !(last.ValLoss < first.ValLoss) || BitsPerChar(last.ValLoss) > 0.1 || last.TrainAcc != 0 {
		t.Errorf("validation loss %.4f -> %.4f nats/char (%.3f bits/char)", first.ValLoss, last.ValLoss, BitsPerChar(last.ValLoss))
	}
}

// BenchmarkCharLMStep times one training step of the KJV demonstration's
// char-lm (64 characters, 32-dim embeddings, 256 LSTM units) on a batch of
// 32 windows of 100 characters; chars/s is the rate the run's epoch lines
// report.
func BenchmarkCharLMStep(b *testing.B) {
	m, err := models.NewCharLM(64, models.CharLMConfig{EmbedDim: 32, Hidden: 256}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	lm := NewLanguageModel(m, optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 0.003}))
	const n, T = 32, 100
	rng := rand.New(rand.NewPCG(3, 4))
	batch := &data.Batch{X: make([]float32, n*(T+1)), Shape: []int{n, T + 1}, Y: make([]int, n)}
	for i := range batch.X {
		batch.X[i] = float32(2 + rng.IntN(62))
	}
	lm.TrainStep(batch)
	b.ResetTimer()
	for range b.N {
		lm.TrainStep(batch)
	}
	b.ReportMetric(float64(b.N*n*T)/b.Elapsed().Seconds(), "chars/s")
}
