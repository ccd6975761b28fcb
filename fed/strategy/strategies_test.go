package strategy

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func mustNew(t *testing.T, name string, edit func(*Options)) Strategy {
	t.Helper()
	o := DefaultOptions()
	if edit != nil {
		edit(&o)
	}
	s, err := New(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func scalars(vals []float32, weights ...float64) []Update {
	us := make([]Update, len(vals))
	for i, v := range vals {
		w := 1.0
		if i < len(weights) {
			w = weights[i]
		}
		us[i] = Update{Client: string(rune('a' + i)), Params: []float32{v}, Weight: w}
	}
	return us
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*(1+math.Abs(b)) }

// TestHandComputed checks each strategy on cases small enough to work out
// on paper (the working is in the comments).
func TestHandComputed(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*Options)
		global float32
		rounds [][]Update
		want   []float64 // after each round
	}{
		// round 1: g = 1-0 = 1, m = 1, 1 - 1 = 0; round 2: g = 0-(-1) = 1,
		// m = 0.9*1 + 1 = 1.9, 0 - 1.9 = -1.9.
		{"fedavgm", nil, 1, [][]Update{scalars([]float32{0}), scalars([]float32{-1})}, []float64{0, -1.9}},
		// no momentum, lr 0.5: 1 - 0.5*(1-0) = 0.5; 0.5 - 0.5*(0.5-(-1.5)) = -0.5.
		{"fedavgm", func(o *Options) { o.ServerMomentum, o.ServerLR = 0, 0.5 }, 1, [][]Update{scalars([]float32{0}), scalars([]float32{-1.5})}, []float64{0.5, -0.5}},
		// (1*2 + 3*6)/4 = 5.
		{"fedprox", nil, 0, [][]Update{scalars([]float32{2, 6}, 1, 3)}, []float64{5}},
		{"fedmedian", nil, 0, [][]Update{scalars([]float32{1, 5, 3}), scalars([]float32{10, 1, 3, 2})}, []float64{3, 2.5}},
		// 5 updates, beta 0.2: cut 1 at each end: mean(2,3,4) = 3; 7
		// updates: cut int(1.4) = 1: mean(1,2,3,4,5) = 3.
		{"trimmedmean", nil, 0, [][]Update{scalars([]float32{100, 2, 1, 4, 3}), scalars([]float32{-50, 1, 2, 3, 4, 5, 90})}, []float64{3, 3}},
		// f = 0, n = 4: each scores its 2 nearest: 0 -> 1+4 = 5, 1 -> 1+1
		// = 2, 2 -> 1+4 = 5, 10 -> 64+81 = 145: Krum picks 1.
		{"krum", nil, 0, [][]Update{scalars([]float32{0, 1, 2, 10})}, []float64{1}},
		// multi-Krum m = 2: 1 (score 2) and 0 (score 5, first of the tie
		// with 2), weighted 1 and 3: (1*0 + 3*1)/4 = 0.75.
		{"krum", func(o *Options) { o.NumToKeep = 2 }, 0, [][]Update{scalars([]float32{0, 1, 2, 10}, 1, 3, 1, 1)}, []float64{0.75}},
		// delta 1: m = 0.1, v = 0.01, eta_t = 0.1*sqrt(1-0.99^2)/(1-0.9^2),
		// step eta_t*0.1/(0.1+1e-9).
		{"fedadam", nil, 0, [][]Update{scalars([]float32{1})}, []float64{0.1 * math.Sqrt(1-0.9801) / (1 - 0.81) * 0.1 / (0.1 + 1e-9)}},
	}
	for _, c := range cases {
		s := mustNew(t, c.name, c.edit)
		g := []float32{c.global}
		for r, us := range c.rounds {
			if err := s.Aggregate(r+1, g, us); err != nil {
				t.Fatalf("%s round %d: %v", c.name, r+1, err)
			}
			if !near(float64(g[0]), c.want[r]) {
				t.Errorf("%s round %d = %v, want %v", c.name, r+1, g[0], c.want[r])
			}
		}
	}
}

func TestClientConfigAndNeedsEach(t *testing.T) {
	if got := mustNew(t, "fedprox", func(o *Options) { o.ProximalMu = 0.25 }).ClientConfig(3); got["proximal_mu"] != "0.25" {
		t.Errorf("fedprox ClientConfig = %v, want proximal_mu 0.25", got)
	}
	for _, n := range Names() {
		s := mustNew(t, n, nil)
		if s.Name() != n {
			t.Errorf("New(%q).Name() = %q", n, s.Name())
		}
		if _, ok := s.ClientConfig(1)["proximal_mu"]; ok != (n == "fedprox") {
			t.Errorf("%s ClientConfig = %v", n, s.ClientConfig(1))
		}
		want := n == "fedmedian" || n == "trimmedmean" || n == "krum"
		if s.NeedsEach() != want {
			t.Errorf("%s NeedsEach = %v, want %v", n, s.NeedsEach(), want)
		}
	}
	if got := Names(); len(got) != 7 || !slices.IsSorted(got) {
		t.Errorf("Names() = %v, want the seven sorted", got)
	}
}

func TestOptionsRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"fedavgm", func(o *Options) { o.ServerLR = 0 }, "learning rate"},
		{"fedavgm", func(o *Options) { o.ServerMomentum = 1 }, "momentum"},
		{"fedprox", func(o *Options) { o.ProximalMu = -1 }, "proximal mu"},
		{"trimmedmean", func(o *Options) { o.TrimBeta = 0.5 }, "beta"},
		{"krum", func(o *Options) { o.NumMalicious = -1 }, "malicious"},
		{"fedadam", func(o *Options) { o.Eta = 0 }, "eta"},
		{"fedadam", func(o *Options) { o.Beta2 = 1 }, "beta"},
		{"fedadam", func(o *Options) { o.Tau = 0 }, "tau"},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.edit(&o)
		if _, err := New(c.name, o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: err = %v, want it to mention %q", c.name, o, err, c.want)
		}
	}
}

// TestNonFinite: the mean-based strategies refuse a NaN or Inf update;
// the robust ones leave it out and fail only when none is left.
func TestNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	us := scalars([]float32{1, nan, 2, 3, inf})
	finite, bad := SplitFinite(us)
	if len(finite) != 3 || !slices.Equal(bad, []string{"b", "e"}) {
		t.Fatalf("SplitFinite = %d finite, bad %v", len(finite), bad)
	}
	for _, n := range Names() {
		s := mustNew(t, n, nil)
		g := []float32{0}
		err := s.Aggregate(1, g, us)
		// krum: each of 1, 2, 3 scores 1 (its nearest at distance 1); the
		// tie goes to the first.
		want := map[string]float32{"fedmedian": 2, "trimmedmean": 2, "krum": 1}[n]
		if s.NeedsEach() {
			if err != nil || g[0] != want {
				t.Errorf("%s over 1, 2, 3 and two bad: %v, err %v; want %v", n, g[0], err, want)
			}
			if err := s.Aggregate(1, g, scalars([]float32{nan, inf})); err == nil {
				t.Errorf("%s with only bad updates: no error", n)
			}
		} else if err == nil || !strings.Contains(err.Error(), "clients b, e") {
			t.Errorf("%s: err = %v, want a refusal naming clients b, e", n, err)
		}
	}
}
