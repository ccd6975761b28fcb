package agent

import (
	"math"

	"github.com/kiln-ml/kiln/rl"
)

// Evaluate plays episodes of v's environment with a's deterministic
// policy until n episodes have finished, and returns their returns in the
// order they finished. Only v's environments and generators advance; the
// agent's generator is untouched.
func Evaluate(a Agent, v *rl.Vec, n int) []float64 {
	acts := make([]float32, v.N)
	var out []float64
	v.TakeEpisodes()
	for len(out) < n {
		a.Act(v.Obs, v.N, true, acts)
		v.Step(acts)
		for _, e := range v.TakeEpisodes() {
			if len(out) < n {
				out = append(out, e.Return)
			}
		}
	}
	return out
}

// MeanStd returns the mean and the (population) standard deviation of x,
// as numpy's mean and std, which SB3's evaluate_policy reports.
func MeanStd(x []float64) (mean, std float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(x)))
}
