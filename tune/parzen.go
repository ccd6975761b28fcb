package tune

// This file holds the Parzen estimators TPE fits to good and bad trials:
// a mixture of truncated normals for numbers, a smoothed histogram for
// categoricals. It follows Optuna's univariate estimator (bandwidths from
// neighbour distances, "magic clip", a prior component). It leaves out
// Optuna's multivariate and discrete-bin variants: integers are treated
// as continuous on [low-step/2, high+step/2] and rounded afterwards.

import (
	"math"
	"math/rand/v2"
	"slices"
)

// parzen is a mixture of normals truncated to [low, high].
type parzen struct {
	low, high float64
	w         []float64 // mixture weights, summing to 1
	mu, sigma []float64
	logZ      []float64 // log of each component's mass inside [low, high]
}

// obsWeights is Optuna's default_weights: flat for fewer than 25
// observations, else a ramp that discounts the oldest ones.
func obsWeights(n int) []float64 {
	w := make([]float64, n)
	if n < 25 {
		for i := range w {
			w[i] = 1
		}
		return w
	}
	ramp := n - 25
	for i := range ramp {
		if ramp == 1 {
			w[i] = 1 / float64(n)
		} else {
			w[i] = 1/float64(n) + (1-1/float64(n))*float64(i)/float64(ramp-1)
		}
	}
	for i := ramp; i < n; i++ {
		w[i] = 1
	}
	return w
}

// newParzen fits the estimator to observations (oldest first) in [low,
// high], adding a prior component centred on the range with the range as
// its width, of weight priorWeight.
func newParzen(obs []float64, low, high, priorWeight float64) *parzen {
	n := len(obs)
	p := &parzen{low: low, high: high}
	p.w = append(obsWeights(n), priorWeight)
	p.mu = append(append([]float64(nil), obs...), 0.5*(low+high))
	p.sigma = make([]float64, n+1)
	if n > 0 {
		// Each kernel is as wide as the larger gap to its neighbours, with
		// the range ends as outer neighbours, except that the outermost
		// kernels use their inner gap (Optuna's consider_endpoints=False).
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case obs[a] < obs[b]:
				return -1
			case obs[a] > obs[b]:
				return 1
			}
			return 0
		})
		ends := make([]float64, n+2)
		ends[0], ends[n+1] = low, high
		for i, j := range idx {
			ends[i+1] = obs[j]
		}
		sorted := make([]float64, n)
		for i := range n {
			sorted[i] = math.Max(ends[i+1]-ends[i], ends[i+2]-ends[i+1])
		}
		if n >= 2 {
			sorted[0] = ends[2] - ends[1]
			sorted[n-1] = ends[n] - ends[n-1]
		}
		for i, j := range idx {
			p.sigma[j] = sorted[i]
		}
	}
	// Magic clip: no kernel narrower than the range over min(100, kernels+1).
	span := high - low
	minSigma := span / math.Min(100, float64(n+2))
	for i := range n {
		p.sigma[i] = math.Max(minSigma, math.Min(span, p.sigma[i]))
	}
	p.sigma[n] = span
	var total float64
	for _, w := range p.w {
		total += w
	}
	p.logZ = make([]float64, n+1)
	for i := range p.w {
		p.w[i] /= total
		a, b := (low-p.mu[i])/p.sigma[i], (high-p.mu[i])/p.sigma[i]
		p.logZ[i] = math.Log(math.Max(normCDF(b)-normCDF(a), 1e-300))
	}
	return p
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// sample draws one value: a component by weight, then a truncated normal
// by inverting its CDF. Every component's mean lies in [low, high], so the
// CDF bounds straddle 1/2 and the inversion stays accurate.
func (p *parzen) sample(rng *rand.Rand) float64 {
	k := pick(p.w, rng)
	a, b := normCDF((p.low-p.mu[k])/p.sigma[k]), normCDF((p.high-p.mu[k])/p.sigma[k])
	u := a + rng.Float64()*(b-a)
	u = math.Min(math.Max(u, 1e-300), 1-1e-16)
	z := -math.Sqrt2 * math.Erfcinv(2*u)
	return math.Max(p.low, math.Min(p.high, p.mu[k]+p.sigma[k]*z))
}

// logPDF returns the log density at x.
func (p *parzen) logPDF(x float64) float64 {
	terms := make([]float64, len(p.w))
	for i := range p.w {
		z := (x - p.mu[i]) / p.sigma[i]
		terms[i] = math.Log(p.w[i]) - 0.5*z*z - math.Log(p.sigma[i]) - 0.5*math.Log(2*math.Pi) - p.logZ[i]
	}
	return logSumExp(terms)
}

// categoricalParzen is Optuna's categorical estimator: each observation
// contributes a one-hot row smoothed by priorWeight spread over the
// choices; the weighted mixture of rows collapses to one distribution.
func categoricalParzen(obs []float64, nChoices int, priorWeight float64) []float64 {
	w := append(obsWeights(len(obs)), priorWeight)
	probs := make([]float64, nChoices)
	var total float64
	for i := range w {
		row := make([]float64, nChoices)
		var rowSum float64
		for c := range row {
			row[c] = priorWeight / float64(nChoices)
			if i < len(obs) && int(obs[i]) == c {
				row[c]++
			}
			rowSum += row[c]
		}
		for c := range row {
			probs[c] += w[i] * row[c] / rowSum
		}
		total += w[i]
	}
	for c := range probs {
		probs[c] /= total
	}
	return probs
}

// pick draws an index with probability proportional to w.
func pick(w []float64, rng *rand.Rand) int {
	var total float64
	for _, v := range w {
		total += v
	}
	u := rng.Float64() * total
	for i, v := range w {
		if u < v {
			return i
		}
		u -= v
	}
	return len(w) - 1
}

func logSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}
