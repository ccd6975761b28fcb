package strategy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// byzantineRound returns 10 updates of dim values: honest clients send the
// true parameters plus N(0, sigma^2) noise; the clients in bad send the
// attack instead. Every update moves global (truth - 1) by about 1.
func byzantineRound(rng *rand.Rand, truth, global []float32, bad []int, attack string, sigma float64) []Update {
	us := make([]Update, 10)
	for c := range us {
		p := make([]float32, len(truth))
		for i := range p {
			honest := float64(truth[i]) + sigma*rng.NormFloat64()
			step := honest - float64(global[i])
			switch {
			case !slices.Contains(bad, c):
				p[i] = float32(honest)
			case attack == "garbage":
				p[i] = float32((rng.Float64()*2 - 1) * 1e6)
			case attack == "scaled":
				p[i] = float32(float64(global[i]) + 100*step)
			case attack == "signflip":
				p[i] = float32(float64(global[i]) - step)
			default:
				panic(attack)
			}
		}
		us[c] = Update{Client: fmt.Sprintf("c%d", c), Params: p, Weight: 50}
	}
	return us
}

func maxAbsErr(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// TestByzantine sends 1, 2 and 3 of 10 clients' updates as garbage
// (uniform in +-1e6), scaled by 100 or sign-flipped, and checks that
// FedAvg is pulled off by about what the attack's share predicts while
// the median, trimmed mean (beta 0.3: it cuts 3 of 10 at each end) and
// Krum (f = 3; multi-Krum keeping 5) stay within 5 sigma of the truth on
// every coordinate. TrimmedMean with Flower's beta 0.2 cuts only 2 at
// each end, so 3 attackers on one side move it: the test shows that too.
func TestByzantine(t *testing.T) {
	const dim, sigma = 100, 0.01
	rng := rand.New(rand.NewPCG(18, 1))
	truth := make([]float32, dim)
	global := make([]float32, dim)
	for i := range truth {
		truth[i] = float32(rng.NormFloat64())
		global[i] = truth[i] - 1
	}
	robust := []struct {
		name string
		edit func(*Options)
	}{
		{"fedmedian", nil},
		{"trimmedmean", func(o *Options) { o.TrimBeta = 0.3 }},
		{"krum", func(o *Options) { o.NumMalicious = 3 }},
		{"krum", func(o *Options) { o.NumMalicious = 3; o.NumToKeep = 5 }},
	}
	for _, attack := range []string{"garbage", "scaled", "signflip"} {
		for _, bad := range [][]int{{4}, {0, 7}, {1, 5, 9}} {
			k := float64(len(bad))
			us := byzantineRound(rng, truth, global, bad, attack, sigma)
			agg := func(name string, edit func(*Options)) float64 {
				g := slices.Clone(global)
				if err := mustNew(t, name, edit).Aggregate(1, g, us); err != nil {
					t.Fatal(err)
				}
				return maxAbsErr(g, truth)
			}
			avg := agg("fedavg", nil)
			// The attackers' share k/10 of the mean moves each coordinate
			// by k/10 * 99 (scaled) or k/10 * 2 (sign-flipped).
			want := map[string]float64{"garbage": 1000, "scaled": 0.9 * k / 10 * 99, "signflip": 0.9 * k / 10 * 2}[attack]
			if avg < want {
				t.Errorf("%s x%d: fedavg is off by only %.3g, want >= %.3g", attack, len(bad), avg, want)
			}
			worst := 0.0
			for _, r := range robust {
				e := agg(r.name, r.edit)
				worst = max(worst, e)
				if e > 5*sigma {
					t.Errorf("%s x%d: %s is off by %.3g, want <= %.3g", attack, len(bad), r.name, e, 5*sigma)
				}
			}
			trim02 := agg("trimmedmean", nil)
			if len(bad) <= 2 && trim02 > 5*sigma {
				t.Errorf("%s x%d: trimmedmean beta 0.2 is off by %.3g, want <= %.3g", attack, len(bad), trim02, 5*sigma)
			}
			if len(bad) == 3 && trim02 < 0.9*k/10*2/4 {
				t.Errorf("%s x3: trimmedmean beta 0.2 is off by only %.3g; one attacker of the 6 kept should move it", attack, trim02)
			}
			t.Logf("%-8s x%d: fedavg off by %.3g, trimmedmean(0.2) by %.3g, the robust ones by at most %.3g", attack, len(bad), avg, trim02, worst)
		}
	}
}

// TestStateRoundTrip runs FedAvgM and FedAdam for 5 rounds straight and
// for 3 rounds, State, a fresh strategy, SetState and 2 more: the global
// parameters must be the same bits.
func TestStateRoundTrip(t *testing.T) {
	for _, name := range []string{"fedavgm", "fedadam"} {
		rounds := make([][]Update, 5)
		rng := rand.New(rand.NewPCG(5, 5))
		for r := range rounds {
			for c := range 4 {
				p := make([]float32, 33)
				for i := range p {
					p[i] = float32(rng.NormFloat64() + float64(r))
				}
				rounds[r] = append(rounds[r], Update{Client: fmt.Sprint(c), Params: p, Weight: float64(1 + c)})
			}
		}
		run := func(s Strategy, g []float32, from, to int) {
			for r := from; r < to; r++ {
				if err := s.Aggregate(r+1, g, rounds[r]); err != nil {
					t.Fatal(err)
				}
			}
		}
		straight := make([]float32, 33)
		run(mustNew(t, name, nil), straight, 0, 5)

		split := make([]float32, 33)
		first := mustNew(t, name, nil)
		run(first, split, 0, 3)
		st := first.State()
		if len(st) == 0 {
			t.Fatalf("%s: no state after 3 rounds", name)
		}
		for _, v := range st {
			v[0] = 1e9 // State must be a copy
		}
		second := mustNew(t, name, nil)
		if err := second.SetState(first.State()); err != nil {
			t.Fatal(err)
		}
		run(second, split, 3, 5)
		if !slices.Equal(straight, split) {
			t.Errorf("%s: 3 + checkpoint + 2 rounds differ from 5 straight (max %g)", name, maxAbsErr(straight, split))
		}
		if err := second.SetState(map[string][]float32{"bogus": {1}}); err == nil {
			t.Errorf("%s: SetState took an unknown key", name)
		}
	}
	if err := mustNew(t, "fedavg", nil).SetState(map[string][]float32{"m": {1}}); err == nil {
		t.Error("fedavg: SetState took a state it does not carry")
	}
}
