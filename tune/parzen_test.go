package tune

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestParzenBandwidths(t *testing.T) {
	tests := []struct {
		obs        []float64
		low, high  float64
		wantSigmas []float64 // observations' kernels, then the prior's
	}{
		// Gaps 0.2, 0.3, 0.5: the outer kernels take their inner gap.
		{[]float64{0.5, 0.2}, 0, 1, []float64{0.3, 0.3, 1}},
		// One observation: the larger gap to the range ends.
		{[]float64{2}, 0, 10, []float64{8, 10}},
		// Many close points: the magic clip holds kernels at span/min(100, n+2).
		{[]float64{5, 5.001, 5.002}, 0, 10, []float64{2, 2, 2, 10}},
		{nil, -1, 1, []float64{2}},
	}
	for _, tc := range tests {
		p := newParzen(tc.obs, tc.low, tc.high, 1)
		if len(p.sigma) != len(tc.wantSigmas) {
			t.Fatalf("%v: %d kernels, want %d", tc.obs, len(p.sigma), len(tc.wantSigmas))
		}
		for i, w := range tc.wantSigmas {
			if math.Abs(p.sigma[i]-w) > 1e-12 {
				t.Errorf("%v: sigma[%d] = %v, want %v", tc.obs, i, p.sigma[i], w)
			}
		}
	}
}

// TestParzenDensity checks that the mixture is a density on [low, high]
// and that sampling follows it: samples stay in range and their mean
// matches the density's.
func TestParzenDensity(t *testing.T) {
	p := newParzen([]float64{-2.5, 0.1, 0.3, 3.9}, -3, 4, 1)
	const n = 20000
	h := 7.0 / n
	var mass, mean float64
	for i := range n + 1 {
		x := -3 + float64(i)*h
		w := h
		if i == 0 || i == n {
			w = h / 2
		}
		d := math.Exp(p.logPDF(x))
		mass += w * d
		mean += w * d * x
	}
	if math.Abs(mass-1) > 1e-6 {
		t.Errorf("density integrates to %v, want 1", mass)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var sum float64
	const draws = 100000
	for range draws {
		x := p.sample(rng)
		if x < -3 || x > 4 {
			t.Fatalf("sample %v outside [-3, 4]", x)
		}
		sum += x
	}
	if got := sum / draws; math.Abs(got-mean) > 0.02 {
		t.Errorf("sample mean %v, density mean %v", got, mean)
	}
}

func TestCategoricalParzen(t *testing.T) {
	// Rows: two (2/3, 1/6, 1/6), one (1/6, 2/3, 1/6), the prior (1/3, 1/3, 1/3).
	got := categoricalParzen([]float64{0, 0, 1}, 3, 1)
	want := []float64{11.0 / 24, 8.0 / 24, 5.0 / 24}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("p[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	got = categoricalParzen(nil, 4, 1)
	for i := range got {
		if math.Abs(got[i]-0.25) > 1e-12 {
			t.Errorf("no observations: p[%d] = %v, want 0.25", i, got[i])
		}
	}
}

func TestObsWeights(t *testing.T) {
	w := obsWeights(10)
	for _, v := range w {
		if v != 1 {
			t.Fatalf("10 observations: weights %v, want all 1", w)
		}
	}
	w = obsWeights(30) // a ramp over the 5 oldest from 1/30 to 1, then 25 ones
	if math.Abs(w[0]-1.0/30) > 1e-12 || w[4] != 1 || w[5] != 1 || w[29] != 1 || !(w[1] > w[0] && w[2] > w[1]) {
		t.Errorf("30 observations: weights %v", w)
	}
}

// TestSplitTrials checks the good/bad split: completed trials by value,
// then pruned ones deeper first; failed and running ones left out.
func TestSplitTrials(t *testing.T) {
	rec := func(n int, s State, v float64, inter map[int]float64) TrialRecord {
		return TrialRecord{Number: n, State: s, Value: v, Intermediate: inter}
	}
	history := []TrialRecord{
		rec(0, Complete, 5, nil),
		rec(1, Pruned, math.NaN(), map[int]float64{1: 0.1, 2: 9}),
		rec(2, Complete, 1, nil),
		rec(3, Failed, math.NaN(), nil),
		rec(4, Pruned, math.NaN(), map[int]float64{1: 0.5}),
		rec(5, Running, math.NaN(), nil),
		rec(6, Complete, 3, nil),
	}
	numbers := func(ts []*TrialRecord) []int {
		var n []int
		for _, t := range ts {
			n = append(n, t.Number)
		}
		return n
	}
	for _, tc := range []struct {
		dir       Direction
		nGood     int
		good, bad []int
	}{
		{Minimize, 2, []int{2, 6}, []int{0, 1, 4}},
		{Maximize, 2, []int{0, 6}, []int{1, 2, 4}},
		{Minimize, 4, []int{0, 1, 2, 6}, []int{4}}, // pruned at step 2 outranks pruned at step 1
	} {
		good, bad := splitTrials(history, tc.dir, func(int) int { return tc.nGood })
		if g, b := numbers(good), numbers(bad); !equalInts(g, tc.good) || !equalInts(b, tc.bad) {
			t.Errorf("%v, %d good: got %v / %v, want %v / %v", tc.dir, tc.nGood, g, b, tc.good, tc.bad)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
