package partition

// This file draws from the Dirichlet distribution, as normalised Gamma
// draws. It leaves out other distributions.

import (
	"math"
	"math/rand/v2"
)

// drawDirichlet fills p with a draw from Dirichlet(alpha): independent
// Gamma(alpha_i, 1) draws divided by their sum. A draw whose Gammas all
// underflow to zero (possible only for tiny alphas) is repeated.
func drawDirichlet(p, alpha []float64, rng *rand.Rand) {
	for {
		sum := 0.0
		for i, a := range alpha {
			p[i] = gamma(a, rng)
			sum += p[i]
		}
		if sum > 0 {
			for i := range p {
				p[i] /= sum
			}
			return
		}
	}
}

// gamma draws from Gamma(a, 1) by Marsaglia and Tsang's method (2000);
// for a < 1, as Gamma(a+1) times U^(1/a).
func gamma(a float64, rng *rand.Rand) float64 {
	if a < 1 {
		u := rng.Float64()
		return gamma(a+1, rng) * math.Pow(u, 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
