package tune

import (
	"maps"
	"math"
	"testing"
)

// prunerSim replays scripted reports through a pruner, keeping attributes
// the way a study does.
type prunerSim struct {
	t      *testing.T
	p      Pruner
	dir    Direction
	trials []TrialRecord
}

func (s *prunerSim) add(state State, inter map[int]float64) int {
	s.trials = append(s.trials, TrialRecord{Number: len(s.trials), State: state, Value: math.NaN(),
		Intermediate: maps.Clone(inter), Attrs: map[string]float64{}})
	if s.trials[len(s.trials)-1].Intermediate == nil {
		s.trials[len(s.trials)-1].Intermediate = map[int]float64{}
	}
	return len(s.trials) - 1
}

// report records value at step for trial i and returns the verdict.
func (s *prunerSim) report(i, step int, value float64) bool {
	tr := &s.trials[i]
	tr.Intermediate[step] = value
	var others []TrialRecord
	for j := range s.trials {
		if j != i {
			others = append(others, s.trials[j])
		}
	}
	prune, attrs := s.p.Prune(&PruneInput{Trial: tr, Step: step, Trials: others, Direction: s.dir})
	maps.Copy(tr.Attrs, attrs)
	return prune
}

func TestMedianPruner(t *testing.T) {
	done := func(vals ...float64) map[int]float64 {
		m := map[int]float64{}
		for i, v := range vals {
			m[i+1] = v
		}
		return m
	}
	type report struct {
		step  int
		value float64
		want  bool
	}
	tests := []struct {
		name    string
		cfg     MedianConfig
		dir     Direction
		history []map[int]float64 // completed trials' values at steps 1, 2, ...
		extra   []State           // other trials (never counted)
		reports []report
	}{
		{"startup not reached", MedianConfig{}, Maximize,
			[]map[int]float64{done(0.5), done(0.6), done(0.7), done(0.8)}, nil,
			[]report{{1, 0.0, false}}},
		{"below median is pruned", MedianConfig{}, Maximize,
			[]map[int]float64{done(0.5), done(0.6), done(0.7), done(0.8), done(0.9)}, nil,
			[]report{{1, 0.65, true}}},
		{"at median is kept", MedianConfig{}, Maximize,
			[]map[int]float64{done(0.5), done(0.6), done(0.7), done(0.8), done(0.9)}, nil,
			[]report{{1, 0.7, false}}},
		{"even count averages the middle", MedianConfig{Startup: 4}, Maximize,
			[]map[int]float64{done(0.5), done(0.6), done(0.7), done(0.8)}, nil,
			[]report{{1, 0.64, true}}},
		{"best so far counts, not the last value", MedianConfig{}, Maximize,
			[]map[int]float64{done(0.5, 0.8), done(0.6, 0.8), done(0.7, 0.8), done(0.8, 0.8), done(0.9, 0.8)}, nil,
			[]report{{1, 0.95, false}, {2, 0.1, false}}},
		{"minimize mirrors", MedianConfig{}, Minimize,
			[]map[int]float64{done(0.5), done(0.6), done(0.7), done(0.8), done(0.9)}, nil,
			[]report{{1, 0.75, true}}},
		{"warmup protects early steps", MedianConfig{Warmup: 2}, Maximize,
			[]map[int]float64{done(0.5, 0.5), done(0.6, 0.6), done(0.7, 0.7), done(0.8, 0.8), done(0.9, 0.9)}, nil,
			[]report{{1, 0.0, false}, {2, 0.0, true}}},
		{"interval skips steps", MedianConfig{Interval: 2}, Maximize,
			[]map[int]float64{done(0.5, 0.5), done(0.6, 0.6), done(0.7, 0.7), done(0.8, 0.8), done(0.9, 0.9)}, nil,
			[]report{{1, 0.0, false}, {2, 0.0, true}}},
		{"running and pruned trials do not count", MedianConfig{}, Maximize,
			[]map[int]float64{done(0.5), done(0.6), done(0.7), done(0.8)}, []State{Running, Pruned, Failed},
			[]report{{1, 0.0, false}}},
		{"too few trials at the step", MedianConfig{MinTrials: 3}, Maximize,
			[]map[int]float64{done(0.5), done(0.6), {2: 1}, {2: 1}, {2: 1}}, nil,
			[]report{{1, 0.0, false}, {2, 0.0, true}}},
		{"NaN is pruned", MedianConfig{}, Minimize,
			[]map[int]float64{done(0.5), done(0.6), done(0.7), done(0.8), done(0.9)}, nil,
			[]report{{1, math.NaN(), true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := &prunerSim{t: t, p: NewMedianPruner(tc.cfg), dir: tc.dir}
			for _, h := range tc.history {
				sim.add(Complete, h)
			}
			for _, st := range tc.extra {
				sim.add(st, done(-100, -100)) // would drag the median down if counted
			}
			i := sim.add(Running, nil)
			for _, r := range tc.reports {
				if got := sim.report(i, r.step, r.value); got != r.want {
					t.Errorf("step %d value %v: prune %v, want %v", r.step, r.value, got, r.want)
				}
			}
		})
	}
}

// TestHalvingPruner replays Optuna's test_successive_halving_pruner_*
// scripts (min_resource 1, eta 2, minimize) and checks the rung records.
func TestHalvingPruner(t *testing.T) {
	sim := &prunerSim{t: t, p: NewHalvingPruner(HalvingConfig{MinResource: 1, ReductionFactor: 2}), dir: Minimize}
	a := sim.add(Running, nil)
	if sim.report(a, 1, 1) {
		t.Error("first trial at rung 0 pruned; the first arrival is the best so far")
	}
	b := sim.add(Running, nil)
	if !sim.report(b, 1, 2) {
		t.Error("second trial, worse than the first at rung 0, not pruned")
	}
	c := sim.add(Running, nil)
	if sim.report(c, 1, 0) {
		t.Error("third trial, best at rung 0, pruned")
	}
	// c goes on: step 2 is rung 1, where it is the first arrival.
	if sim.report(c, 2, 0) {
		t.Error("first arrival at rung 1 pruned")
	}
	if _, ok := sim.trials[c].Attrs[rungKey(1)]; !ok {
		t.Errorf("rung 1 not recorded: %v", sim.trials[c].Attrs)
	}
	// Step 3 is between rungs: nothing to judge, nothing recorded.
	if sim.report(c, 3, 5) || len(sim.trials[c].Attrs) != 2 {
		t.Errorf("between rungs: attrs %v", sim.trials[c].Attrs)
	}
	// A trial jumping straight to step 4 passes rungs 0, 1, 2 in one report
	// when it beats the others at each.
	d := sim.add(Running, nil)
	if sim.report(d, 4, -1) {
		t.Error("best trial pruned")
	}
	for r := range 3 {
		if v, ok := sim.trials[d].Attrs[rungKey(r)]; !ok || v != -1 {
			t.Errorf("rung %d: %v, %v", r, v, ok)
		}
	}
	// With four values at rung 0 ([0, 1, 2, -1] plus this one), the top
	// 5/2 = 2 go on: 0.5 is third.
	e := sim.add(Running, nil)
	if !sim.report(e, 1, 0.5) {
		t.Error("third of five at rung 0 not pruned")
	}
	f := sim.add(Running, nil)
	if sim.report(f, 1, -0.5) {
		t.Error("second of six at rung 0 pruned")
	}
}

func TestHalvingPrunerMaximizeAndRate(t *testing.T) {
	sim := &prunerSim{t: t, p: NewHalvingPruner(HalvingConfig{MinResource: 1, ReductionFactor: 2, MinEarlyStoppingRate: 1}), dir: Maximize}
	a := sim.add(Running, nil)
	sim.report(a, 2, 0.9)
	b := sim.add(Running, nil)
	if sim.report(b, 1, 0.1) {
		t.Error("rate 1 puts rung 0 at step 2; step 1 judged")
	}
	if !sim.report(b, 2, 0.5) {
		t.Error("worse of two at rung 0 (maximize) not pruned")
	}
	c := sim.add(Running, nil)
	if sim.report(c, 2, 0.95) {
		t.Error("best at rung 0 (maximize) pruned")
	}
}

func TestHalvingPrunerAutoAndBootstrap(t *testing.T) {
	sim := &prunerSim{t: t, p: NewHalvingPruner(HalvingConfig{BootstrapCount: 1}), dir: Minimize}
	a := sim.add(Running, nil)
	if sim.report(a, 5, 1) || len(sim.trials[a].Attrs) != 0 {
		t.Error("auto min resource before any completed trial: pruned or recorded")
	}
	sim.add(Complete, map[int]float64{300: 0.5}) // min resource becomes 300/100 = 3
	b := sim.add(Running, nil)
	if sim.report(b, 2, 9) {
		t.Error("step 2 below the resolved min resource 3 judged")
	}
	// Bootstrap 1: the first value at a rung is pruned until the rung holds
	// more than one.
	if !sim.report(b, 3, 0.1) {
		t.Error("bootstrap: first arrival at rung 0 not pruned")
	}
	c := sim.add(Running, nil)
	if sim.report(c, 3, 0.05) {
		t.Error("second arrival, best, pruned")
	}
}
