package tune

// This file holds the Pruner contract and the median rule. It leaves out
// successive halving (halving.go) and Optuna's other percentile and
// patience pruners.

import (
	"math"
	"slices"
)

// PruneInput is what a pruner sees after a trial reports a value.
type PruneInput struct {
	Trial     *TrialRecord  // the trial being judged; Intermediate holds the value just reported
	Step      int           // the step just reported
	Trials    []TrialRecord // the study's other trials, any state
	Direction Direction
}

// Pruner decides whether a trial should stop early. It may return
// attributes to store on the trial (bookkeeping that other workers' pruners
// read, such as successive halving's rung values). Pruners are shared by
// concurrent workers and must be safe for concurrent use.
type Pruner interface {
	Prune(in *PruneInput) (prune bool, attrs map[string]float64)
}

// NopPruner never prunes.
type NopPruner struct{}

// Prune implements Pruner.
func (NopPruner) Prune(*PruneInput) (bool, map[string]float64) { return false, nil }

// MedianConfig sets the median rule's knobs, as in Optuna's MedianPruner.
type MedianConfig struct {
	Startup   int // completed trials needed before anything is pruned; 0 means 5, negative means none
	Warmup    int // steps below this are never pruned
	Interval  int // judge only every Interval steps after Warmup; 0 means 1
	MinTrials int // completed trials that reported this step needed for a median; 0 means 1
}

// Median prunes a trial whose best value so far is worse than the median
// of the values completed trials reported at the same step (Optuna's
// MedianPruner: the best-so-far, not the latest value, so one noisy epoch
// does not kill a trial).
type Median struct {
	cfg MedianConfig
}

// NewMedianPruner returns the median-rule pruner.
func NewMedianPruner(cfg MedianConfig) *Median {
	if cfg.Startup == 0 {
		cfg.Startup = 5
	} else if cfg.Startup < 0 {
		cfg.Startup = 0
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 1
	}
	if cfg.MinTrials <= 0 {
		cfg.MinTrials = 1
	}
	return &Median{cfg: cfg}
}

// Prune implements Pruner.
func (m *Median) Prune(in *PruneInput) (bool, map[string]float64) {
	step := in.Step
	if step < m.cfg.Warmup || (step-m.cfg.Warmup)%m.cfg.Interval != 0 {
		return false, nil
	}
	var atStep []float64
	completed := 0
	for i := range in.Trials {
		t := &in.Trials[i]
		if t.State != Complete {
			continue
		}
		completed++
		if v, ok := t.Intermediate[step]; ok && !math.IsNaN(v) {
			atStep = append(atStep, v)
		}
	}
	if completed < m.cfg.Startup || len(atStep) < m.cfg.MinTrials || len(atStep) == 0 {
		return false, nil
	}
	best := bestSoFar(in.Trial, in.Direction)
	if math.IsNaN(best) {
		return true, nil
	}
	med := median(atStep)
	if in.Direction == Maximize {
		return best < med, nil
	}
	return best > med, nil
}

// bestSoFar returns the trial's best reported value, or NaN when it has
// reported only NaN.
func bestSoFar(t *TrialRecord, dir Direction) float64 {
	best := math.NaN()
	for _, v := range t.Intermediate {
		if dir.better(v, best) {
			best = v
		}
	}
	return best
}

// median is the midpoint of the sorted values, averaging the middle two
// (numpy's percentile 50 with linear interpolation).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return 0.5 * (s[n/2-1] + s[n/2])
}
