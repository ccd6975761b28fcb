package privacy

// This file holds the DP-SGD primitives over flat gradient buffers, as
// Opacus's DPOptimizer applies them: each example's gradient clipped to an
// L2 norm of at most C and added to a sum, Gaussian noise of standard
// deviation sigma*C added to that sum once per step, and the result divided
// by the expected batch size. It leaves out computing the per-example
// gradients (classifier.go).

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// L2Norm returns the Euclidean norm of g, accumulated in float64.
func L2Norm(g []float32) float64 {
	var s float64
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// ClipFactor returns min(1, maxNorm/(norm+1e-6)), the factor Opacus
// multiplies a per-example gradient of that norm by.
func ClipFactor(norm, maxNorm float64) float64 {
	return math.Min(1, maxNorm/(norm+1e-6))
}

// AccumulateClipped adds g, scaled to an L2 norm of at most maxNorm, to
// sum, and returns g's norm before clipping. g is left unchanged.
func AccumulateClipped(sum, g []float32, maxNorm float64) float64 {
	if len(sum) != len(g) {
		panic(fmt.Sprintf("privacy: sum of %d values and gradient of %d", len(sum), len(g)))
	}
	norm := L2Norm(g)
	f := float32(ClipFactor(norm, maxNorm))
	for i, v := range g {
		sum[i] += f * v
	}
	return norm
}

// AddNoise adds independent Gaussian noise of standard deviation
// sigma*maxNorm, drawn from rng, to every value of sum.
func AddNoise(sum []float32, sigma, maxNorm float64, rng *rand.Rand) {
	std := sigma * maxNorm
	if std == 0 {
		return
	}
	for i := range sum {
		sum[i] += float32(std * rng.NormFloat64())
	}
}

// Privatize turns the sum of clipped per-example gradients into DP-SGD's
// gradient in place: noise of sigma*maxNorm added, then divided by
// expectedBatch (q times the dataset size, as Opacus divides with mean
// reduction, never the sampled batch's own size, which would leak it).
func Privatize(sum []float32, sigma, maxNorm float64, expectedBatch int, rng *rand.Rand) {
	if expectedBatch < 1 {
		panic(fmt.Sprintf("privacy: expected batch size %d", expectedBatch))
	}
	AddNoise(sum, sigma, maxNorm, rng)
	inv := float32(1 / float64(expectedBatch))
	for i := range sum {
		sum[i] *= inv
	}
}
