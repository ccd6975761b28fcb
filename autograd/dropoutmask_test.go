package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/tensor"
)

// TestFillDropoutMaskMatchesTape: the exported mask is the one Dropout
// applies, and both leave the generator in the same state.
func TestFillDropoutMaskMatchesTape(t *testing.T) {
	for _, p := range []float32{0.2, 0.5, 0.9} {
		r1, r2 := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
		x := tensor.New(5, 7)
		x.Fill(1)
		y := NewTape().Dropout(NewVar(x, false), p, r1)
		mask := make([]float32, 35)
		FillDropoutMask(mask, p, r2)
		for i, v := range y.Value().Values() {
			if v != mask[i] {
				t.Fatalf("p=%v element %d: tape %v, mask %v", p, i, v, mask[i])
			}
		}
		if r1.Uint64() != r2.Uint64() {
			t.Fatalf("p=%v: generators diverged", p)
		}
	}
}
