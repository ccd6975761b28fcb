package agent

import (
	"fmt"
	"slices"

	"github.com/kiln-ml/kiln/rl"
)

// ZooEntry is one environment's tuned settings for one algorithm from
// the rl-baselines3-zoo (hyperparams/<algo>.yml): the agent's settings,
// the number of environments and the training budget.
type ZooEntry struct {
	OnPolicy *OnPolicyConfig
	DQN      *DQNConfig
	Envs     int
	Steps    int
}

// Zoo returns the rl-zoo's settings for algo on env (short names, as
// classic.Canonical gives them), or ok false when the zoo has none; then
// the algorithm's SB3 defaults apply. The zoo normalises Acrobot's
// observations for PPO and A2C, which kiln leaves out.
func Zoo(env, algo string) (ZooEntry, bool) {
	switch env + "/" + algo {
	case "cartpole/ppo":
		c := PPODefaults()
		c.NSteps, c.BatchSize, c.GAELambda, c.Gamma, c.NEpochs, c.EntCoef = 32, 256, 0.8, 0.98, 20, 0
		c.LR, c.LinearLR, c.ClipRange, c.LinearClip = 1e-3, true, 0.2, true
		return ZooEntry{OnPolicy: &c, Envs: 8, Steps: 100_000}, true
	case "cartpole/a2c":
		c := A2CDefaults()
		return ZooEntry{OnPolicy: &c, Envs: 8, Steps: 500_000}, true
	case "acrobot/ppo":
		c := PPODefaults()
		c.NSteps, c.GAELambda, c.Gamma, c.NEpochs, c.EntCoef = 256, 0.94, 0.99, 4, 0
		return ZooEntry{OnPolicy: &c, Envs: 16, Steps: 1_000_000}, true
	case "acrobot/a2c":
		c := A2CDefaults()
		return ZooEntry{OnPolicy: &c, Envs: 16, Steps: 500_000}, true
	case "mountaincar/ppo":
		c := PPODefaults()
		c.NSteps, c.GAELambda, c.Gamma, c.NEpochs, c.EntCoef = 16, 0.98, 0.99, 4, 0
		return ZooEntry{OnPolicy: &c, Envs: 16, Steps: 1_000_000}, true
	case "cartpole/dqn":
		c := DQNDefaults()
		c.LR, c.BatchSize, c.BufferSize, c.LearningStarts, c.Gamma = 2.3e-3, 64, 100_000, 1000, 0.99
		c.TargetUpdateInterval, c.TrainFreq, c.GradientSteps = 10, 256, 128
		c.ExplorationFraction, c.ExplorationFinalEps, c.Hidden = 0.16, 0.04, []int{256, 256}
		return ZooEntry{DQN: &c, Envs: 1, Steps: 50_000}, true
	case "acrobot/dqn":
		c := DQNDefaults()
		c.LR, c.BatchSize, c.BufferSize, c.LearningStarts, c.Gamma = 6.3e-4, 128, 50_000, 0, 0.99
		c.TargetUpdateInterval, c.TrainFreq, c.GradientSteps = 250, 4, -1
		c.ExplorationFraction, c.ExplorationFinalEps, c.Hidden = 0.12, 0.1, []int{256, 256}
		return ZooEntry{DQN: &c, Envs: 1, Steps: 100_000}, true
	case "mountaincar/dqn":
		c := DQNDefaults()
		c.LR, c.BatchSize, c.BufferSize, c.LearningStarts, c.Gamma = 4e-3, 128, 10_000, 1000, 0.98
		c.TargetUpdateInterval, c.TrainFreq, c.GradientSteps = 600, 16, 8
		c.ExplorationFraction, c.ExplorationFinalEps, c.Hidden = 0.2, 0.07, []int{256, 256}
		return ZooEntry{DQN: &c, Envs: 1, Steps: 120_000}, true
	}
	return ZooEntry{}, false
}

// Algos lists the algorithms by name.
func Algos() []string { return []string{"ppo", "a2c", "reinforce", "dqn"} }

// New returns a fresh agent of the given settings (exactly one of on and
// dqn set) for n copies of the environment spec describes.
func New(on *OnPolicyConfig, dqn *DQNConfig, spec rl.Spec, n int, seed uint64) (Agent, error) {
	switch {
	case on != nil && dqn == nil:
		return NewOnPolicy(*on, spec, n, seed)
	case dqn != nil && on == nil:
		return NewDQN(*dqn, spec, n, seed)
	}
	return nil, fmt.Errorf("agent: want exactly one of an on-policy and a DQN config")
}

// Defaults returns the SB3 defaults of the named algorithm.
func Defaults(algo string) (ZooEntry, error) {
	switch algo {
	case "ppo":
		c := PPODefaults()
		return ZooEntry{OnPolicy: &c}, nil
	case "a2c":
		c := A2CDefaults()
		return ZooEntry{OnPolicy: &c}, nil
	case "reinforce":
		c := REINFORCEDefaults()
		return ZooEntry{OnPolicy: &c}, nil
	case "dqn":
		c := DQNDefaults()
		return ZooEntry{DQN: &c}, nil
	}
	return ZooEntry{}, fmt.Errorf("agent: unknown algorithm %q; want one of %v", algo, slices.Clone(Algos()))
}
