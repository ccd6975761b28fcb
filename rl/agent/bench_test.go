package agent

import (
	"testing"

	"github.com/kiln-ml/kiln/rl"
	"github.com/kiln-ml/kiln/rl/classic"
)

// BenchmarkPPOCartPole measures one iteration of PPO with the zoo's
// CartPole settings: a rollout of 8 x 32 steps and 20 epochs of one
// 256-example minibatch. b.N iterations are 256 b.N environment steps;
// docs/RL.md times 65,536 steps (256 iterations) end to end.
func BenchmarkPPOCartPole(b *testing.B) {
	z, _ := Zoo("cartpole", "ppo")
	mk, _ := classic.Maker("cartpole")
	v := rl.NewVec(mk, z.Envs, 0)
	a, err := NewOnPolicy(*z.OnPolicy, v.Spec, z.Envs, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		a.Iterate(v, 1<<30)
	}
	b.ReportMetric(float64(v.Steps)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkDQNCartPole measures one DQN iteration with the zoo's CartPole
// settings once learning has started: 256 environment steps and 128
// updates of a 64-example minibatch.
func BenchmarkDQNCartPole(b *testing.B) {
	z, _ := Zoo("cartpole", "dqn")
	mk, _ := classic.Maker("cartpole")
	v := rl.NewVec(mk, 1, 0)
	a, err := NewDQN(*z.DQN, v.Spec, 1, 0)
	if err != nil {
		b.Fatal(err)
	}
	for v.Steps <= z.DQN.LearningStarts {
		a.Iterate(v, 100_000)
	}
	start := v.Steps
	b.ResetTimer()
	for range b.N {
		a.Iterate(v, 100_000)
	}
	b.ReportMetric(float64(v.Steps-start)/b.Elapsed().Seconds(), "steps/s")
}
