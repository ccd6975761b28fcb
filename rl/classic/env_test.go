package classic

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/rl"
)

func TestCartPoleTermination(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state []float64
		act   float32
		term  bool
	}{
		{"x just inside", []float64{2.39, 0.4, 0, 0}, 1, false},      // x becomes 2.398
		{"x crosses 2.4", []float64{2.395, 0.5, 0, 0}, 1, true},      // 2.405
		{"x crosses -2.4", []float64{-2.395, -0.5, 0, 0}, 0, true},   // -2.405
		{"theta crosses 12°", []float64{0, 0, 0.2090, 0.1}, 1, true}, // 0.211 > 0.20944
		{"theta inside", []float64{0, 0, 0.2090, 0.01}, 1, false},    // 0.2092
		{"theta crosses -12°", []float64{0, 0, -0.2090, -0.1}, 0, true},
	} {
		c := NewCartPole()
		if err := c.SetState(append(tc.state, 3)); err != nil {
			t.Fatal(err)
		}
		_, r, term, trunc := c.Step([]float32{tc.act})
		if term != tc.term || trunc || r != 1 {
			t.Errorf("%s: state %v: reward %v terminated %v truncated %v, want 1 %v false", tc.name, c.State(), r, term, trunc, tc.term)
		}
	}
}

func TestOtherTerminations(t *testing.T) {
	a := NewAcrobot()
	// both links up: the free end is 2 above the pivot
	if err := a.SetState([]float64{math.Pi, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if _, r, term, _ := a.Step([]float32{1}); !term || r != 0 {
		t.Errorf("acrobot upright: reward %v terminated %v, want 0 true", r, term)
	}
	a.SetState([]float64{0, 0, 0, 0, 0})
	if _, r, term, _ := a.Step([]float32{1}); term || r != -1 {
		t.Errorf("acrobot hanging: reward %v terminated %v, want -1 false", r, term)
	}
	m := NewMountainCar()
	m.SetState([]float64{0.49, 0.02, 0})
	if _, r, term, _ := m.Step([]float32{2}); !term || r != -1 {
		t.Errorf("mountain car at the flag: reward %v terminated %v, want -1 true", r, term)
	}
	// the left wall stops the car
	m.SetState([]float64{-1.19, -0.07, 0})
	m.Step([]float32{0})
	if s := m.State(); s[0] != mcMinPos || s[1] != 0 {
		t.Errorf("mountain car into the wall: state %v, want position -1.2 and velocity 0", s)
	}
	p := NewPendulum()
	p.SetState([]float64{0, 0, 0})
	if _, r, term, _ := p.Step([]float32{5}); term || math.Abs(r+0.004) > 1e-12 {
		t.Errorf("pendulum upright with torque 5 (clipped to 2): reward %v terminated %v, want -0.004 false", r, term)
	}
}

func TestTruncationAtLimit(t *testing.T) {
	for _, name := range Names() {
		e, _ := Make(name)
		spec := e.Spec()
		rng := rand.New(rand.NewPCG(1, 2))
		e.Reset(rng)
		s := e.State()
		s[len(s)-1] = float64(spec.MaxSteps - 2)
		if err := e.SetState(s); err != nil {
			t.Fatal(err)
		}
		act := []float32{0}
		if _, _, _, trunc := e.Step(act); trunc {
			t.Errorf("%s: truncated at step %d of %d", spec.ID, spec.MaxSteps-1, spec.MaxSteps)
		}
		if _, _, _, trunc := e.Step(act); !trunc {
			t.Errorf("%s: not truncated at step %d", spec.ID, spec.MaxSteps)
		}
		// a whole episode of a constant action ends no later than the limit
		e.Reset(rng)
		n := 0
		for {
			n++
			_, _, term, trunc := e.Step(act)
			if term || trunc {
				break
			}
		}
		if n > spec.MaxSteps {
			t.Errorf("%s: episode of %d steps, limit %d", spec.ID, n, spec.MaxSteps)
		}
	}
}

// episode plays one episode with actions from a generator of its own and
// returns every observation and reward.
func episode(e rl.Env, seed uint64) (obs [][]float32, rewards []float64) {
	act := rand.New(rand.NewPCG(seed, 99))
	o := e.Reset(rl.NewRand(seed))
	obs = append(obs, slices.Clone(o))
	spec := e.Spec()
	for {
		a := []float32{0}
		if spec.Actions > 0 {
			a[0] = float32(act.IntN(spec.Actions))
		} else {
			a[0] = float32(act.Float64()*4 - 2)
		}
		o, r, term, trunc := e.Step(a)
		obs = append(obs, slices.Clone(o))
		rewards = append(rewards, r)
		if term || trunc {
			return obs, rewards
		}
	}
}

func TestSeedingReproducesEpisodes(t *testing.T) {
	for _, name := range Names() {
		e1, _ := Make(name)
		e2, _ := Make(name)
		o1, r1 := episode(e1, 5)
		o2, r2 := episode(e2, 5)
		if !slices.EqualFunc(o1, o2, slices.Equal) || !slices.Equal(r1, r2) {
			t.Errorf("%s: seed 5 gave two different episodes", name)
		}
		o3, _ := episode(e1, 6)
		if slices.Equal(o1[0], o3[0]) {
			t.Errorf("%s: seeds 5 and 6 start at the same observation %v", name, o1[0])
		}
	}
}

func TestResetDistribution(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, name := range Names() {
		e, _ := Make(name)
		spec := e.Spec()
		for range 500 {
			obs := e.Reset(rng)
			if !spec.Obs.Contains(obs) {
				t.Fatalf("%s: reset observation %v outside the space", name, obs)
			}
			s := e.State()
			var lo, hi float64
			switch name {
			case "cartpole":
				lo, hi = -0.05, 0.05
			case "acrobot":
				lo, hi = -0.1, 0.1
			case "mountaincar":
				lo, hi = -0.6, -0.4
				s = s[:1]
			case "pendulum":
				lo, hi = -math.Pi, math.Pi
				s = s[:1]
			}
			for _, v := range s[:len(s)-1+boolInt(len(s) == 1)] {
				if v < lo || v > hi {
					t.Fatalf("%s: reset state %v outside [%v, %v]", name, s, lo, hi)
				}
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestVecStateResumes(t *testing.T) {
	newEnv, _ := Maker("cartpole")
	rng := rand.New(rand.NewPCG(1, 1))
	acts := make([][]float32, 450)
	for k := range acts {
		acts[k] = []float32{float32(rng.IntN(2)), float32(rng.IntN(2)), float32(rng.IntN(2)), float32(rng.IntN(2))}
	}
	a := rl.NewVec(newEnv, 4, 11)
	for _, act := range acts[:150] {
		a.Step(act)
	}
	b := rl.NewVec(newEnv, 4, 999)
	if err := b.SetState(a.State()); err != nil {
		t.Fatal(err)
	}
	for _, act := range acts[150:] {
		a.Step(act)
		b.Step(act)
		if !slices.Equal(a.Obs, b.Obs) || !slices.Equal(a.Reward, b.Reward) || !slices.Equal(a.Terminated, b.Terminated) || !slices.Equal(a.Truncated, b.Truncated) {
			t.Fatal("a restored vector diverged from the original")
		}
	}
	ea, eb := a.TakeEpisodes(), b.TakeEpisodes()
	if len(ea) < 10 || !slices.Equal(ea, eb) {
		t.Errorf("episodes %v and %v", ea, eb)
	}
	if len(a.TakeEpisodes()) != 0 {
		t.Error("TakeEpisodes did not forget")
	}
	bad := a.State()
	bad.RNG[0] = "zz"
	if err := b.SetState(bad); err == nil {
		t.Error("a corrupt generator state was accepted")
	}
}

func FuzzSetState(f *testing.F) {
	f.Add(0.1, -0.2, 0.3, 0.4, 12.0, 5)
	f.Add(math.NaN(), 0.0, 0.0, 0.0, 501.0, 5)
	f.Add(0.0, 0.0, 0.0, 0.0, -1.0, 3)
	f.Fuzz(func(t *testing.T, a, b, c, d, steps float64, n int) {
		for _, name := range Names() {
			e, _ := Make(name)
			s := []float64{a, b, c, d, steps}[:max(0, min(5, n))]
			err := e.SetState(s)
			if err != nil {
				continue
			}
			if got := e.State(); !slices.Equal(got, s) && !math.IsNaN(a) {
				t.Fatalf("%s: SetState(%v) then State() = %v", name, s, got)
			}
			if k := s[len(s)-1]; k > float64(e.Spec().MaxSteps) || k < 0 || k != math.Trunc(k) {
				t.Fatalf("%s: accepted step count %v", name, k)
			}
		}
	})
}

// FuzzVecState feeds decoded JSON states, as state.safetensors carries
// them, to Vec.SetState: bad ones are refused, none panics, and an
// accepted one steps.
func FuzzVecState(f *testing.F) {
	newEnv, _ := Maker("cartpole")
	v := rl.NewVec(newEnv, 2, 1)
	v.Step([]float32{0, 1})
	good, _ := json.Marshal(v.State())
	f.Add(good)
	f.Add([]byte(`{"envs":[[0,0,0,0,0]],"rng":["00"],"obs":[0,0,0,0]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s rl.VecState
		if json.Unmarshal(b, &s) != nil {
			return
		}
		w := rl.NewVec(newEnv, 2, 9)
		if w.SetState(s) == nil {
			w.Step([]float32{1, 0})
		}
	})
}
