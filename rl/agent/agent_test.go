package agent

import (
	"maps"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/rl"
	"github.com/kiln-ml/kiln/rl/classic"
)

func cartpoleVec(t *testing.T, n int, seed uint64) *rl.Vec {
	t.Helper()
	mk, err := classic.Maker("cartpole")
	if err != nil {
		t.Fatal(err)
	}
	return rl.NewVec(mk, n, seed)
}

// TestPPOLearnsCartPole is the suite's proof of learning: the rl-zoo's
// PPO settings, 20,000 steps at seed 0, then 20 deterministic episodes.
// A random policy averages about 22.
func TestPPOLearnsCartPole(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 2 s")
	}
	z, _ := Zoo("cartpole", "ppo")
	v := cartpoleVec(t, z.Envs, 0)
	a, err := NewOnPolicy(*z.OnPolicy, v.Spec, z.Envs, 0)
	if err != nil {
		t.Fatal(err)
	}
	const steps = 20_000
	for v.Steps < steps {
		a.Iterate(v, steps)
	}
	mean, std := MeanStd(Evaluate(a, cartpoleVec(t, 4, 1000), 20))
	t.Logf("PPO, %d steps: mean return %.1f ± %.1f over 20 episodes", v.Steps, mean, std)
	if mean <= 150 {
		t.Errorf("PPO after %d steps: mean return %.1f, want above 150", v.Steps, mean)
	}
}

// TestOnPolicyImproves trains A2C and REINFORCE briefly: each must beat
// the random policy clearly.
func TestOnPolicyImproves(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	for _, algo := range []string{"a2c", "reinforce"} {
		d, _ := Defaults(algo)
		v := cartpoleVec(t, 8, 3)
		a, err := NewOnPolicy(*d.OnPolicy, v.Spec, 8, 3)
		if err != nil {
			t.Fatal(err)
		}
		const steps = 24_000
		for v.Steps < steps {
			a.Iterate(v, steps)
		}
		mean, _ := MeanStd(Evaluate(a, cartpoleVec(t, 4, 1000), 20))
		t.Logf("%s, %d steps: mean return %.1f", algo, v.Steps, mean)
		if mean < 60 {
			t.Errorf("%s after %d steps: mean return %.1f, want at least 60", algo, v.Steps, mean)
		}
	}
}

// snapshot is everything saved between iterations.
type snapshot struct {
	params []float32
	opt    map[string][]float32
	agent  State
	vec    rl.VecState
}

func take(a Agent, v *rl.Vec) snapshot {
	s := snapshot{params: slices.Clone(a.Params().Data), opt: map[string][]float32{}, agent: a.State(), vec: v.State()}
	for k, b := range a.Optimizer().State() {
		s.opt[k] = slices.Clone(b)
	}
	s.agent.Tensors = maps.Clone(s.agent.Tensors)
	for k, b := range s.agent.Tensors {
		s.agent.Tensors[k] = slices.Clone(b)
	}
	return s
}

// TestResumeIsExact saves an agent mid-run, restores it into a fresh agent
// made from another seed, and checks that both continue with the same
// parameters bit for bit.
func TestResumeIsExact(t *testing.T) {
	small := func(algo string) ZooEntry {
		switch algo {
		case "dqn":
			c := DQNDefaults()
			c.LearningStarts, c.TrainFreq, c.GradientSteps, c.TargetUpdateInterval, c.BufferSize, c.DoubleQ = 50, 16, 4, 64, 300, true
			return ZooEntry{DQN: &c, Envs: 2}
		default:
			d, _ := Defaults(algo)
			d.OnPolicy.NSteps, d.OnPolicy.LinearLR, d.OnPolicy.ClipRangeVF, d.OnPolicy.EntCoef = 32, true, 0.5, 0.01
			d.Envs = 3
			return d
		}
	}
	for _, algo := range Algos() {
		z := small(algo)
		const total = 4000
		a, err := New(z.OnPolicy, z.DQN, classic.NewCartPole().Spec(), z.Envs, 7)
		if err != nil {
			t.Fatal(err)
		}
		v := cartpoleVec(t, z.Envs, 7)
		for range 5 {
			a.Iterate(v, total)
		}
		saved := take(a, v)
		for range 5 {
			a.Iterate(v, total)
		}
		b, _ := New(z.OnPolicy, z.DQN, classic.NewCartPole().Spec(), z.Envs, 99)
		w := cartpoleVec(t, z.Envs, 99)
		copy(b.Params().Data, saved.params)
		if err := optim.LoadState(b.Optimizer(), saved.opt); err != nil {
			t.Fatal(err)
		}
		if err := b.SetState(saved.agent); err != nil {
			t.Fatal(err)
		}
		if err := w.SetState(saved.vec); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			b.Iterate(w, total)
		}
		if !slices.Equal(a.Params().Data, b.Params().Data) {
			t.Errorf("%s: the resumed agent's parameters differ from the uninterrupted one's", algo)
		}
		if slices.Equal(a.Params().Data, saved.params) {
			t.Errorf("%s: five iterations changed nothing", algo)
		}
	}
}

func TestValidate(t *testing.T) {
	c := PPODefaults()
	c.NSteps = 0
	if c.Validate() == nil {
		t.Error("n_steps 0 accepted")
	}
	c = PPODefaults()
	c.Optimizer = "lbfgs"
	if c.Validate() == nil {
		t.Error("optimizer lbfgs accepted")
	}
	d := DQNDefaults()
	d.ExplorationFraction = 0
	if d.Validate() == nil {
		t.Error("exploration_fraction 0 accepted")
	}
	if _, err := NewOnPolicy(PPODefaults(), classic.NewPendulum().Spec(), 1, 0); err == nil {
		t.Error("PPO accepted Pendulum's continuous actions")
	}
}

func TestEpsilonSchedule(t *testing.T) {
	c := DQNDefaults()
	for _, tc := range []struct{ done, want float64 }{{0, 1}, {0.05, 0.525}, {0.1, 0.05}, {0.5, 0.05}} {
		if got := c.epsilon(tc.done); got-tc.want > 1e-12 || tc.want-got > 1e-12 {
			t.Errorf("epsilon(%v) = %v, want %v", tc.done, got, tc.want)
		}
	}
}
