package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestClipGradNormTwoIsThePowerSum checks that the 2-norm's direct sum of
// squares gives the general p-norm's bits (math.Pow per element), clipped
// and not.
func TestClipGradNormTwoIsThePowerSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, maxNorm := range []float64{0.5, 100} {
		g := make([]float32, 1000)
		for i := range g {
			g[i] = float32(rng.NormFloat64() * 0.1)
		}
		want := append([]float32(nil), g...)
		var total float64
		for _, v := range want {
			total += math.Pow(math.Abs(float64(v)), 2)
		}
		total = math.Pow(total, 0.5)
		if coef := maxNorm / (total + 1e-6); coef < 1 {
			for i := range want {
				want[i] *= float32(coef)
			}
		}
		if got := ClipGradNorm(g, maxNorm, 2); got != total {
			t.Errorf("max norm %v: norm %v, the power sum's %v", maxNorm, got, total)
		}
		for i := range g {
			if g[i] != want[i] {
				t.Fatalf("max norm %v: gradient %d is %v, the power sum's %v", maxNorm, i, g[i], want[i])
			}
		}
	}
}
