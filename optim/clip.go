package optim

import "math"

// ClipGradNorm scales the gradients so that their global norm is at most
// maxNorm and returns the norm before clipping, like
// torch.nn.utils.clip_grad_norm_ over all of a model's parameters. normType
// is 2 for the Euclidean norm or math.Inf(1) for the largest magnitude.
func ClipGradNorm(grads []float32, maxNorm, normType float64) float64 {
	var total float64
	switch {
	case math.IsInf(normType, 1):
		for _, g := range grads {
			total = math.Max(total, math.Abs(float64(g)))
		}
	case normType == 2:
		// The general case's bits (a float32's square is exact in float64,
		// and Pow(x, 0.5) is Sqrt) without a math.Pow per element, which
		// took a fifth of an RL agent's step.
		for _, g := range grads {
			total += float64(g) * float64(g)
		}
		total = math.Sqrt(total)
	default:
		for _, g := range grads {
			total += math.Pow(math.Abs(float64(g)), normType)
		}
		total = math.Pow(total, 1/normType)
	}
	coef := maxNorm / (total + 1e-6)
	if coef < 1 {
		c := float32(coef)
		for i := range grads {
			grads[i] *= c
		}
	}
	return total
}
