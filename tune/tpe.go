package tune

// This file holds the tree-structured Parzen estimator sampler (Bergstra
// et al. 2011, as in Optuna's univariate TPESampler). It leaves out the
// multivariate and grouped variants and the "constant liar" for running
// trials: concurrent workers may pick close points.

import (
	"cmp"
	"math"
	"slices"
)

// TPEConfig sets the TPE sampler's knobs; zero values take Optuna's
// defaults.
type TPEConfig struct {
	Startup     int     // random trials before the model is used; 0 means 10
	Candidates  int     // draws from l(x) per parameter, of which the best l/g wins; 0 means 24
	PriorWeight float64 // weight of the flat prior component; 0 means 1
	// Gamma returns how many of n finished trials count as good; nil
	// means min(ceil(0.1 n), 25).
	Gamma func(n int) int
}

// TPE samples each parameter by modelling the density of good values
// l(x) and of bad values g(x) over finished trials and picking, among
// candidates drawn from l, the one with the largest l(x)/g(x).
type TPE struct {
	cfg TPEConfig
}

// NewTPE returns a TPE sampler.
func NewTPE(cfg TPEConfig) *TPE {
	if cfg.Startup <= 0 {
		cfg.Startup = 10
	}
	if cfg.Candidates <= 0 {
		cfg.Candidates = 24
	}
	if cfg.PriorWeight <= 0 {
		cfg.PriorWeight = 1
	}
	if cfg.Gamma == nil {
		cfg.Gamma = func(n int) int { return min(int(math.Ceil(0.1*float64(n))), 25) }
	}
	return &TPE{cfg: cfg}
}

// Sample implements Sampler.
func (t *TPE) Sample(req *SampleRequest) ([]float64, error) {
	good, bad := splitTrials(req.History, req.Direction, t.cfg.Gamma)
	if len(good)+len(bad) < t.cfg.Startup || len(good) == 0 {
		return Random{}.Sample(req)
	}
	x := make([]float64, req.Space.Len())
	for i := range req.Space.Params {
		x[i] = t.sampleParam(&req.Space.Params[i], i, good, bad, req)
	}
	return x, nil
}

// sampleParam fits l and g to one parameter and returns the best of the
// candidates drawn from l.
func (t *TPE) sampleParam(p *Param, i int, good, bad []*TrialRecord, req *SampleRequest) float64 {
	obsGood, obsBad := observations(good, i), observations(bad, i)
	rng := req.Rand
	if p.Kind == Categorical {
		l := categoricalParzen(obsGood, len(p.Choices), t.cfg.PriorWeight)
		g := categoricalParzen(obsBad, len(p.Choices), t.cfg.PriorWeight)
		best, bestScore := 0, math.Inf(-1)
		for range t.cfg.Candidates {
			c := pick(l, rng)
			if s := math.Log(l[c]) - math.Log(g[c]); s > bestScore {
				best, bestScore = c, s
			}
		}
		return float64(best)
	}
	lo, hi, fwd, inv := transform(p)
	for k := range obsGood {
		obsGood[k] = fwd(obsGood[k])
	}
	for k := range obsBad {
		obsBad[k] = fwd(obsBad[k])
	}
	l := newParzen(obsGood, lo, hi, t.cfg.PriorWeight)
	g := newParzen(obsBad, lo, hi, t.cfg.PriorWeight)
	best, bestScore := l.sample(rng), math.Inf(-1)
	for k := range t.cfg.Candidates {
		c := best
		if k > 0 {
			c = l.sample(rng)
		}
		if s := l.logPDF(c) - g.logPDF(c); s > bestScore {
			best, bestScore = c, s
		}
	}
	return p.snap(inv(best))
}

// transform returns the range TPE models a numeric parameter on and the
// maps into and out of it: log space for log parameters, and half a step
// of margin for integers so that the end values get whole rounding cells.
func transform(p *Param) (lo, hi float64, fwd, inv func(float64) float64) {
	lo, hi = p.Low, p.High
	if p.Kind == Int {
		half := float64(p.Step) / 2
		lo, hi = lo-half, hi+half
	}
	if p.Log {
		return math.Log(lo), math.Log(hi), math.Log, math.Exp
	}
	id := func(x float64) float64 { return x }
	return lo, hi, id, id
}

// observations returns the trials' internal values of parameter i, oldest
// trial first, skipping trials that lack it.
func observations(ts []*TrialRecord, i int) []float64 {
	var v []float64
	for _, t := range ts {
		if i < len(t.X) && !math.IsNaN(t.X[i]) {
			v = append(v, t.X[i])
		}
	}
	return v
}

// splitTrials divides finished trials into the gamma(n) best and the rest,
// as Optuna does: completed trials rank by value; pruned trials rank after
// them, deeper ones (larger last step) first, then by last value. Each
// group is returned in trial-number order, which the weights rely on.
func splitTrials(history []TrialRecord, dir Direction, gamma func(int) int) (good, bad []*TrialRecord) {
	var complete, pruned []*TrialRecord
	for i := range history {
		t := &history[i]
		switch {
		case t.State == Complete && !math.IsNaN(t.Value):
			complete = append(complete, t)
		case t.State == Pruned && t.LastStep() >= 0:
			pruned = append(pruned, t)
		}
	}
	n := len(complete) + len(pruned)
	if n == 0 {
		return nil, nil
	}
	nGood := max(0, min(gamma(n), n))
	sign := 1.0
	if dir == Maximize {
		sign = -1
	}
	slices.SortStableFunc(complete, func(a, b *TrialRecord) int { return cmp.Compare(sign*a.Value, sign*b.Value) })
	slices.SortStableFunc(pruned, func(a, b *TrialRecord) int {
		sa, sb := a.LastStep(), b.LastStep()
		if sa != sb {
			return cmp.Compare(sb, sa)
		}
		return cmp.Compare(sign*a.Intermediate[sa], sign*b.Intermediate[sb])
	})
	ranked := append(complete, pruned...)
	good, bad = ranked[:nGood:nGood], ranked[nGood:]
	byNumber := func(a, b *TrialRecord) int { return cmp.Compare(a.Number, b.Number) }
	slices.SortFunc(good, byNumber)
	slices.SortFunc(bad, byNumber)
	return good, bad
}
