package device_test

import (
	"testing"

	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/train"
)

// TestPredictorMatchesEngine: the inference program on the CPU backend
// gives train.Classifier.Logits's logits and EvalBatch's figures to the
// bit, for batches that grow and shrink (1, 13, 3, 40).
func TestPredictorMatchesEngine(t *testing.T) {
	predictorMatches(t, func() backend.Backend { return backend.NewCPU() }, 0)
}

func predictorMatches(t *testing.T, open func() backend.Backend, tol float64) {
	for _, zc := range zoo {
		t.Run(zc.name, func(t *testing.T) {
			m := build(t, zc, 7)
			nn.SetTraining(m, false)
			ref := train.NewClassifier(m, m.ParamSet(), nil, nil)
			p, err := device.NewPredictor(m, m.ParamSet(), open())
			if err != nil {
				t.Fatal(err)
			}
			if p.Classes() != zc.shape.Classes || p.InputSize() != zc.shape.Channels*zc.shape.Height*zc.shape.Width {
				t.Fatalf("predictor of %d classes, %d inputs", p.Classes(), p.InputSize())
			}
			for _, b := range batches(zc.shape, []int{1, 13, 3, 40}, 8) {
				want := append([]float32(nil), ref.Logits(b)...)
				got, err := p.Logits(b.X)
				if err != nil {
					t.Fatal(err)
				}
				near(t, "logits", got, want, tol)
				rp, dp := make([]int, len(b.Y)), make([]int, len(b.Y))
				rl, rk := ref.EvalBatch(b, rp)
				dl, dk := p.EvalBatch(b, dp)
				if err := p.Err(); err != nil {
					t.Fatal(err)
				}
				if !within(dl, rl, tol) || (tol == 0 && dk != rk) {
					t.Fatalf("batch of %d: device loss %v (%d right), engine %v (%d right)", len(b.Y), dl, dk, rl, rk)
				}
				for i := range rp {
					if tol == 0 && rp[i] != dp[i] {
						t.Fatalf("prediction %d: device %d, engine %d", i, dp[i], rp[i])
					}
				}
			}
			if _, err := p.Logits(make([]float32, p.InputSize()+1)); err == nil {
				t.Fatal("a partial example was accepted")
			}
		})
	}
}
