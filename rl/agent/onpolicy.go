package agent

// This file holds the on-policy agents, PPO, A2C and REINFORCE with a
// baseline, which share SB3's OnPolicyAlgorithm: a rollout of NSteps steps
// of every environment, returns and advantages by GAE, then epochs of
// minibatch updates of one loss (PGLoss). They differ in their settings
// only (PPODefaults, A2CDefaults, REINFORCEDefaults). The rollout is in
// rollout.go.

import (
	"fmt"
	"math"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/rl"
	"github.com/kiln-ml/kiln/tensor"
)

// OnPolicyConfig holds an on-policy agent's hyperparameters, with SB3's
// names.
type OnPolicyConfig struct {
	Algo               string  `json:"algo"` // "ppo", "a2c" or "reinforce"
	LR                 float64 `json:"learning_rate"`
	LinearLR           bool    `json:"linear_lr,omitempty"` // decay LR linearly to 0 over the run (rl-zoo's lin_<lr>)
	NSteps             int     `json:"n_steps"`             // steps of each environment per rollout
	BatchSize          int     `json:"batch_size"`          // minibatch size; 0 for the whole rollout
	NEpochs            int     `json:"n_epochs"`
	Gamma              float64 `json:"gamma"`
	GAELambda          float64 `json:"gae_lambda"`
	ClipRange          float64 `json:"clip_range"`              // PPO's ratio clipping; 0 for a plain policy gradient
	LinearClip         bool    `json:"linear_clip,omitempty"`   // decay ClipRange linearly to 0
	ClipRangeVF        float64 `json:"clip_range_vf,omitempty"` // value clipping; 0 for none
	NormalizeAdvantage bool    `json:"normalize_advantage"`
	EntCoef            float64 `json:"ent_coef"`
	VFCoef             float64 `json:"vf_coef"`
	MaxGradNorm        float64 `json:"max_grad_norm"`
	Hidden             []int   `json:"net_arch"`
	Activation         string  `json:"activation"` // "tanh" or "relu"
	Optimizer          string  `json:"optimizer"`  // "adam" (eps 1e-5) or "rmsprop" (alpha 0.99, eps 1e-5)
}

// PPODefaults returns SB3's PPO defaults.
func PPODefaults() OnPolicyConfig {
	return OnPolicyConfig{Algo: "ppo", LR: 3e-4, NSteps: 2048, BatchSize: 64, NEpochs: 10, Gamma: 0.99, GAELambda: 0.95,
		ClipRange: 0.2, NormalizeAdvantage: true, EntCoef: 0, VFCoef: 0.5, MaxGradNorm: 0.5,
		Hidden: []int{64, 64}, Activation: "tanh", Optimizer: "adam"}
}

// A2CDefaults returns SB3's A2C defaults: five steps per rollout, one
// update on all of it, RMSprop.
func A2CDefaults() OnPolicyConfig {
	return OnPolicyConfig{Algo: "a2c", LR: 7e-4, NSteps: 5, BatchSize: 0, NEpochs: 1, Gamma: 0.99, GAELambda: 1,
		EntCoef: 0, VFCoef: 0.5, MaxGradNorm: 0.5, Hidden: []int{64, 64}, Activation: "tanh", Optimizer: "rmsprop"}
}

// REINFORCEDefaults returns REINFORCE with a learned baseline (SB3 has no
// REINFORCE; these are kiln's): Monte-Carlo returns (lambda 1, long
// rollouts of 500 steps, bootstrapped from the baseline only where a
// rollout or the time limit cuts an episode), normalised advantages, one
// update per rollout.
func REINFORCEDefaults() OnPolicyConfig {
	return OnPolicyConfig{Algo: "reinforce", LR: 1e-3, NSteps: 500, BatchSize: 0, NEpochs: 1, Gamma: 0.99, GAELambda: 1,
		NormalizeAdvantage: true, EntCoef: 0, VFCoef: 0.5, MaxGradNorm: 0.5, Hidden: []int{64, 64}, Activation: "tanh", Optimizer: "adam"}
}

// Validate checks the settings.
func (c *OnPolicyConfig) Validate() error {
	switch {
	case c.Algo != "ppo" && c.Algo != "a2c" && c.Algo != "reinforce":
		return fmt.Errorf("agent: algo %q, want ppo, a2c or reinforce", c.Algo)
	case !(c.LR > 0), c.NSteps < 1, c.BatchSize < 0, c.NEpochs < 1, !(c.Gamma >= 0 && c.Gamma <= 1),
		!(c.GAELambda >= 0 && c.GAELambda <= 1), !(c.ClipRange >= 0), !(c.ClipRangeVF >= 0), !(c.MaxGradNorm >= 0), len(c.Hidden) == 0:
		return fmt.Errorf("agent: %s settings out of range: %+v", c.Algo, *c)
	case c.Activation != "tanh" && c.Activation != "relu":
		return fmt.Errorf("agent: activation %q, want tanh or relu", c.Activation)
	case c.Optimizer != "adam" && c.Optimizer != "rmsprop":
		return fmt.Errorf("agent: optimizer %q, want adam or rmsprop", c.Optimizer)
	}
	for _, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("agent: hidden layer of %d units", h)
		}
	}
	return nil
}

// OnPolicy is PPO, A2C or REINFORCE, as its config says.
type OnPolicy struct {
	Cfg    OnPolicyConfig
	Net    *ActorCritic
	params *nn.ParamSet
	opt    optim.Optimizer
	gen    generator
	tape   *autograd.Tape
	buf    rollout
	spec   rl.Spec
	nEnvs  int
}

var _ Agent = (*OnPolicy)(nil)

// NewOnPolicy returns an agent for nEnvs copies of the environment spec
// describes, its networks initialised and its generator seeded from seed.
func NewOnPolicy(cfg OnPolicyConfig, spec rl.Spec, nEnvs int, seed uint64) (*OnPolicy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if spec.Actions == 0 {
		return nil, fmt.Errorf("agent: %s has continuous actions; %s here acts in discrete action spaces", spec.ID, cfg.Algo)
	}
	a := &OnPolicy{Cfg: cfg, gen: newGenerator(seed), tape: autograd.NewTape(), spec: spec, nEnvs: nEnvs}
	a.Net = NewActorCritic(spec.Obs.Dim(), spec.Actions, cfg.Hidden, cfg.Activation, a.gen.rng)
	a.params = nn.Pack(a.Net)
	if cfg.Optimizer == "rmsprop" {
		a.opt = optim.NewRMSprop(a.params.Data, a.params.Grad, optim.RMSpropConfig{LR: cfg.LR, Alpha: 0.99, Eps: 1e-5})
	} else {
		a.opt = optim.NewAdam(a.params.Data, a.params.Grad, optim.AdamConfig{LR: cfg.LR, Eps: 1e-5})
	}
	a.buf.init(cfg.NSteps, nEnvs, spec.Obs.Dim())
	return a, nil
}

// Model returns the actor-critic.
func (a *OnPolicy) Model() nn.Module { return a.Net }

// Params returns the parameters.
func (a *OnPolicy) Params() *nn.ParamSet { return a.params }

// Optimizer returns the optimizer.
func (a *OnPolicy) Optimizer() optim.Optimizer { return a.opt }

// forward runs both networks on n observations without recording and
// returns the log-probabilities (n, A) and values (n).
func (a *OnPolicy) forward(obs []float32, n int) (logp, values []float32) {
	g := a.tape
	g.Reset()
	prev := g.SetGradEnabled(false)
	defer g.SetGradEnabled(prev)
	x := g.Const(tensor.FromSlice(obs[:n*a.spec.Obs.Dim()], n, a.spec.Obs.Dim()))
	logp = g.LogSoftmax(a.Net.Pi.Forward(g, x), 1).Data()
	values = a.Net.VF.Forward(g, x).Data()
	return logp, values
}

// Act samples actions from the policy, or takes the most likely ones.
func (a *OnPolicy) Act(obs []float32, n int, deterministic bool, actions []float32) {
	logp, _ := a.forward(obs, n)
	k := a.spec.Actions
	for i := range n {
		row := logp[i*k : (i+1)*k]
		if deterministic {
			actions[i] = float32(argmax(row))
		} else {
			actions[i] = float32(sample(row, a.gen.rng))
		}
	}
}

// Iterate collects one rollout and trains on it.
func (a *OnPolicy) Iterate(v *rl.Vec, total int) []Stat {
	if v.N != a.nEnvs {
		panic(fmt.Sprintf("agent: an agent for %d environments given %d", a.nEnvs, v.N))
	}
	a.collect(v)
	progress := 1 - float64(v.Steps)/float64(max(total, 1)) // SB3's progress remaining
	lr, clip := a.Cfg.LR, a.Cfg.ClipRange
	if a.Cfg.LinearLR {
		lr *= progress
	}
	if a.Cfg.LinearClip {
		clip *= progress
	}
	a.opt.SetLR(lr)
	return append(a.train(float32(clip)), Stat{"learning_rate", lr})
}

// train runs the epochs of minibatch updates over the rollout.
func (a *OnPolicy) train(clip float32) []Stat {
	c := a.Cfg
	b := &a.buf
	size := b.steps * b.envs
	bs := c.BatchSize
	if bs == 0 || bs > size {
		bs = size
	}
	d := a.spec.Obs.Dim()
	obs := make([]float32, bs*d)
	var mb PGBatch
	var sums PGParts
	var lossSum float64
	updates := 0
	coefs := PGCoefs{Clip: clip, ClipVF: float32(c.ClipRangeVF), EntCoef: float32(c.EntCoef), VFCoef: float32(c.VFCoef)}
	if c.Algo != "ppo" {
		coefs.Clip, coefs.ClipVF = 0, 0
	}
	for range c.NEpochs {
		perm := a.gen.rng.Perm(size)
		if bs == size && c.NEpochs == 1 {
			for i := range perm { // one pass over everything: no shuffling needed (SB3's A2C)
				perm[i] = i
			}
		}
		for start := 0; start < size; start += bs {
			idx := perm[start:min(start+bs, size)]
			n := len(idx)
			mb = b.gather(idx, obs, mb)
			if c.NormalizeAdvantage && n > 1 {
				normalize(mb.Advantages)
			}
			g := a.tape
			g.Reset()
			x := g.Const(tensor.FromSlice(obs[:n*d], n, d))
			loss, parts := PGLoss(g, a.Net.Pi.Forward(g, x), a.Net.VF.Forward(g, x), mb, coefs)
			a.params.ZeroGrad()
			g.Backward(loss)
			if c.MaxGradNorm > 0 {
				optim.ClipGradNorm(a.params.Grad, c.MaxGradNorm, 2)
			}
			a.opt.Step()
			lossSum += float64(loss.Item())
			sums.Policy += parts.Policy
			sums.Value += parts.Value
			sums.Entropy += parts.Entropy
			sums.ClipFraction += parts.ClipFraction
			updates++
		}
	}
	u := float64(updates)
	stats := []Stat{{"loss", lossSum / u}, {"policy_loss", float64(sums.Policy) / u}, {"value_loss", float64(sums.Value) / u},
		{"entropy", float64(sums.Entropy) / u}}
	if c.Algo == "ppo" {
		stats = append(stats, Stat{"clip_fraction", float64(sums.ClipFraction) / u}, Stat{"clip_range", float64(clip)})
	}
	return append(stats, Stat{"explained_variance", b.explainedVariance()})
}

// normalize makes x zero-mean with unit (unbiased) standard deviation,
// adding 1e-8 to the deviation as SB3 does.
func normalize(x []float32) {
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	std := math.Sqrt(ss / float64(len(x)-1))
	for i, v := range x {
		x[i] = float32((float64(v) - mean) / (std + 1e-8))
	}
}

// State returns the generator and whether each environment's next
// observation starts an episode.
func (a *OnPolicy) State() State {
	return State{RNG: a.gen.save(), Tensors: map[string][]float32{"episode_starts": append([]float32(nil), a.buf.lastStarts...)}}
}

// SetState restores State.
func (a *OnPolicy) SetState(s State) error {
	if err := a.gen.load(s.RNG); err != nil {
		return err
	}
	return loadTensor(s, "episode_starts", a.buf.lastStarts)
}
