package tune

// This file holds asynchronous successive halving, with Optuna's
// SuccessiveHalvingPruner semantics. It leaves out Hyperband's brackets.

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// HalvingConfig sets successive halving's knobs.
type HalvingConfig struct {
	// MinResource is the step of the first rung; 0 means "auto": once a
	// trial has completed, its last step over 100 (at least 1).
	MinResource int
	// ReductionFactor (eta) spaces the rungs (rung r sits at step
	// MinResource * eta^(MinEarlyStoppingRate + r)) and sets how many
	// go on from a rung: the top 1/eta. 0 means 4.
	ReductionFactor int
	// MinEarlyStoppingRate shifts the first rung up by eta^rate.
	MinEarlyStoppingRate int
	// BootstrapCount prunes trials reaching a rung until it holds more than
	// this many values.
	BootstrapCount int
}

// Halving is asynchronous successive halving: when a trial reaches a
// rung's step it records its value there (a trial attribute), and goes on
// only if that value is in the top 1/eta of the values recorded at that
// rung so far by all trials; the first eta-1 arrivals go on only if they
// are the best so far.
type Halving struct {
	cfg HalvingConfig

	mu      sync.Mutex
	minRes  int // the resolved MinResource; 0 while "auto" is unresolved
	resolve bool
}

// NewHalvingPruner returns a successive halving pruner.
func NewHalvingPruner(cfg HalvingConfig) *Halving {
	if cfg.ReductionFactor < 2 {
		cfg.ReductionFactor = 4
	}
	return &Halving{cfg: cfg, minRes: max(cfg.MinResource, 0), resolve: cfg.MinResource <= 0}
}

// rungKey names the attribute holding a trial's value at rung r.
func rungKey(r int) string { return fmt.Sprintf("completed_rung_%d", r) }

// minResource returns MinResource, resolving "auto" from the first time a
// completed trial is seen (and then keeping it, as Optuna does).
func (h *Halving) minResource(trials []TrialRecord) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.minRes > 0 || !h.resolve {
		return h.minRes
	}
	last := -1
	for i := range trials {
		if trials[i].State == Complete {
			last = max(last, trials[i].LastStep())
		}
	}
	if last < 0 {
		return 0
	}
	h.minRes = max(last/100, 1)
	return h.minRes
}

// Prune implements Pruner.
func (h *Halving) Prune(in *PruneInput) (bool, map[string]float64) {
	step := in.Trial.LastStep()
	if step < 0 {
		return false, nil
	}
	value := in.Trial.Intermediate[step]
	rung := 0
	for rung < 1<<16 {
		if _, ok := in.Trial.Attrs[rungKey(rung)]; !ok {
			break
		}
		rung++
	}
	minRes := h.minResource(in.Trials)
	if minRes <= 0 {
		return false, nil
	}
	eta := h.cfg.ReductionFactor
	attrs := map[string]float64{}
	for {
		promotion := float64(minRes) * math.Pow(float64(eta), float64(h.cfg.MinEarlyStoppingRate+rung))
		if float64(step) < promotion {
			return false, attrs
		}
		if math.IsNaN(value) {
			return true, attrs
		}
		key := rungKey(rung)
		attrs[key] = value
		competing := []float64{value}
		for i := range in.Trials {
			if v, ok := in.Trials[i].Attrs[key]; ok {
				competing = append(competing, v)
			}
		}
		if len(competing) <= h.cfg.BootstrapCount {
			return true, attrs
		}
		if !promotable(value, competing, eta, in.Direction) {
			return true, attrs
		}
		rung++
	}
}

// promotable is Optuna's _is_trial_promotable_to_next_rung: value must be
// within the best len/eta of the competing values (which include it), or
// the best of them while fewer than eta have arrived.
func promotable(value float64, competing []float64, eta int, dir Direction) bool {
	idx := len(competing)/eta - 1
	if idx < 0 {
		idx = 0
	}
	s := slices.Clone(competing)
	slices.Sort(s)
	if dir == Maximize {
		return s[len(s)-1-idx] <= value
	}
	return value <= s[idx]
}
