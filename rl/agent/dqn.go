package agent

// This file holds DQN (Mnih et al. 2015) as SB3's DQN runs it: epsilon-
// greedy collection of TrainFreq steps, then GradientSteps updates of the
// Huber loss on replayed minibatches against a target network copied
// every TargetUpdateInterval environment steps; with Double DQN (van
// Hasselt et al. 2016) when asked. It leaves out prioritised replay,
// dueling networks and n-step returns.

import (
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/rl"
	"github.com/kiln-ml/kiln/tensor"
)

// DQNConfig holds DQN's hyperparameters, with SB3's names.
type DQNConfig struct {
	LR                   float64 `json:"learning_rate"`
	BufferSize           int     `json:"buffer_size"`
	LearningStarts       int     `json:"learning_starts"` // environment steps of random actions before learning
	BatchSize            int     `json:"batch_size"`
	Gamma                float64 `json:"gamma"`
	TrainFreq            int     `json:"train_freq"`             // vector steps per rollout
	GradientSteps        int     `json:"gradient_steps"`         // updates per rollout; -1 for as many as environment steps
	TargetUpdateInterval int     `json:"target_update_interval"` // environment steps between target copies
	ExplorationFraction  float64 `json:"exploration_fraction"`   // share of the run over which epsilon falls
	ExplorationInitEps   float64 `json:"exploration_initial_eps"`
	ExplorationFinalEps  float64 `json:"exploration_final_eps"`
	MaxGradNorm          float64 `json:"max_grad_norm"`
	DoubleQ              bool    `json:"double_q"` // Double DQN's target: the online network picks, the target evaluates
	Hidden               []int   `json:"net_arch"`
}

// DQNDefaults returns SB3's DQN defaults (version 2), Double DQN off.
func DQNDefaults() DQNConfig {
	return DQNConfig{LR: 1e-4, BufferSize: 1_000_000, LearningStarts: 100, BatchSize: 32, Gamma: 0.99, TrainFreq: 4,
		GradientSteps: 1, TargetUpdateInterval: 10_000, ExplorationFraction: 0.1, ExplorationInitEps: 1,
		ExplorationFinalEps: 0.05, MaxGradNorm: 10, Hidden: []int{64, 64}}
}

// Validate checks the settings.
func (c *DQNConfig) Validate() error {
	if !(c.LR > 0) || c.BufferSize < 1 || c.LearningStarts < 0 || c.BatchSize < 1 || !(c.Gamma >= 0 && c.Gamma <= 1) ||
		c.TrainFreq < 1 || c.GradientSteps < -1 || c.TargetUpdateInterval < 1 || !(c.ExplorationFraction > 0 && c.ExplorationFraction <= 1) ||
		!(c.ExplorationInitEps >= 0 && c.ExplorationInitEps <= 1) || !(c.ExplorationFinalEps >= 0 && c.ExplorationFinalEps <= 1) ||
		!(c.MaxGradNorm >= 0) || len(c.Hidden) == 0 {
		return fmt.Errorf("agent: dqn settings out of range: %+v", *c)
	}
	for _, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("agent: hidden layer of %d units", h)
		}
	}
	return nil
}

// QNets holds DQN's online network ("q_net") and target network
// ("q_net_target"); only the online one is trained.
type QNets struct {
	Q, Target *nn.Sequential
}

// Forward returns the online network's action values.
func (m *QNets) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var { return m.Q.Forward(g, x) }

// Children names the online network only: the target is a copy that
// the optimizer never touches, saved with the agent's state.
func (m *QNets) Children() []nn.Child { return []nn.Child{{Name: "q_net", Module: m.Q}} }

// DQN is the deep Q-network agent.
type DQN struct {
	Cfg      DQNConfig
	Net      *QNets
	params   *nn.ParamSet
	target   *nn.ParamSet
	opt      optim.Optimizer
	gen      generator
	tape     *autograd.Tape
	buf      *replay
	spec     rl.Spec
	nEnvs    int
	eps      float64
	nCalls   int
	nUpdates int
}

var _ Agent = (*DQN)(nil)

// mlpDefaultInit is an MLP of Linear and ReLU layers with PyTorch's
// default initialisation, which SB3's QNetwork keeps.
func mlpDefaultInit(in int, hidden []int, out int, rngSrc generator) *nn.Sequential {
	var layers []nn.Module
	prev := in
	for _, h := range hidden {
		layers = append(layers, nn.NewLinear(prev, h, true, rngSrc.rng), nn.NewReLU())
		prev = h
	}
	return nn.NewSequential(append(layers, nn.NewLinear(prev, out, true, rngSrc.rng))...)
}

// NewDQN returns a DQN agent for nEnvs copies of the environment spec
// describes.
func NewDQN(cfg DQNConfig, spec rl.Spec, nEnvs int, seed uint64) (*DQN, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if spec.Actions == 0 {
		return nil, fmt.Errorf("agent: %s has continuous actions; DQN needs discrete ones", spec.ID)
	}
	a := &DQN{Cfg: cfg, gen: newGenerator(seed), tape: autograd.NewTape(), spec: spec, nEnvs: nEnvs, eps: cfg.ExplorationInitEps}
	d := spec.Obs.Dim()
	a.Net = &QNets{Q: mlpDefaultInit(d, cfg.Hidden, spec.Actions, a.gen)}
	a.Net.Target = mlpDefaultInit(d, cfg.Hidden, spec.Actions, a.gen)
	a.params = nn.Pack(a.Net)
	a.target = nn.Pack(a.Net.Target)
	copy(a.target.Data, a.params.Data)
	a.opt = optim.NewAdam(a.params.Data, a.params.Grad, optim.AdamConfig{LR: cfg.LR})
	a.buf = newReplay(cfg.BufferSize, d)
	return a, nil
}

// Model returns the networks (the online one's parameters).
func (a *DQN) Model() nn.Module { return a.Net }

// Params returns the online network's parameters.
func (a *DQN) Params() *nn.ParamSet { return a.params }

// Optimizer returns the optimizer.
func (a *DQN) Optimizer() optim.Optimizer { return a.opt }

// qValues runs net on n observations without recording.
func (a *DQN) qValues(net *nn.Sequential, obs []float32, n int) []float32 {
	g := a.tape
	g.Reset()
	prev := g.SetGradEnabled(false)
	defer g.SetGradEnabled(prev)
	d := a.spec.Obs.Dim()
	return net.Forward(g, g.Const(tensor.FromSlice(obs[:n*d], n, d))).Data()
}

// Act takes the greedy actions, or with probability epsilon (one draw for
// all n, as SB3's predict) uniformly random ones.
func (a *DQN) Act(obs []float32, n int, deterministic bool, actions []float32) {
	k := a.spec.Actions
	if !deterministic && a.gen.rng.Float64() < a.eps {
		for i := range n {
			actions[i] = float32(a.gen.rng.IntN(k))
		}
		return
	}
	q := a.qValues(a.Net.Q, obs, n)
	for i := range n {
		actions[i] = float32(argmax(q[i*k : (i+1)*k]))
	}
}

// epsilon is SB3's linear schedule at the given share of the run done.
func (c *DQNConfig) epsilon(done float64) float64 {
	if done > c.ExplorationFraction {
		return c.ExplorationFinalEps
	}
	return c.ExplorationInitEps + done*(c.ExplorationFinalEps-c.ExplorationInitEps)/c.ExplorationFraction
}

// Iterate collects TrainFreq vector steps and then trains.
func (a *DQN) Iterate(v *rl.Vec, total int) []Stat {
	if v.N != a.nEnvs {
		panic(fmt.Sprintf("agent: an agent for %d environments given %d", a.nEnvs, v.N))
	}
	c := a.Cfg
	n, d := v.N, v.ObsDim
	acts := make([]float32, n)
	obs := make([]float32, n*d)
	steps := 0
	for range c.TrainFreq {
		if v.Steps < c.LearningStarts {
			for i := range acts {
				acts[i] = float32(a.gen.rng.IntN(a.spec.Actions))
			}
		} else {
			a.Act(v.Obs, n, false, acts)
		}
		copy(obs, v.Obs)
		v.Step(acts)
		steps += n
		for i := range n {
			next := v.Obs[i*d : (i+1)*d]
			if v.Terminated[i] || v.Truncated[i] {
				next = v.FinalObs[i*d : (i+1)*d]
			}
			a.buf.add(obs[i*d:(i+1)*d], next, int(acts[i]), v.Reward[i], v.Terminated[i])
		}
		a.nCalls++
		if a.nCalls%max(c.TargetUpdateInterval/n, 1) == 0 {
			copy(a.target.Data, a.params.Data)
		}
		a.eps = c.epsilon(float64(v.Steps) / float64(max(total, 1)))
	}
	stats := []Stat{{"exploration_rate", a.eps}}
	if v.Steps <= c.LearningStarts {
		return stats
	}
	grad := c.GradientSteps
	if grad < 0 {
		grad = steps
	}
	if grad == 0 {
		return stats
	}
	loss := a.train(grad)
	return append(stats, Stat{"loss", loss}, Stat{"n_updates", float64(a.nUpdates)})
}

// train runs steps updates and returns their mean loss.
func (a *DQN) train(steps int) float64 {
	c := a.Cfg
	bs, d, k := c.BatchSize, a.spec.Obs.Dim(), a.spec.Actions
	obs, next := make([]float32, bs*d), make([]float32, bs*d)
	actions := make([]int, bs)
	rewards, dones, target := make([]float32, bs), make([]float32, bs), make([]float32, bs)
	var sum float64
	for range steps {
		a.buf.sample(bs, a.gen.rng, obs, next, actions, rewards, dones)
		var online []float32
		if c.DoubleQ { // copied: the next forward pass reuses the tape's memory
			online = append(online[:0], a.qValues(a.Net.Q, next, bs)...)
		}
		nextQ := a.qValues(a.Net.Target, next, bs)
		for i := range bs {
			row := nextQ[i*k : (i+1)*k]
			best := row[argmax(row)]
			if c.DoubleQ {
				best = row[argmax(online[i*k:(i+1)*k])]
			}
			target[i] = rewards[i] + (1-dones[i])*float32(c.Gamma)*best
		}
		g := a.tape
		g.Reset()
		q := a.Net.Q.Forward(g, g.Const(tensor.FromSlice(obs, bs, d)))
		loss := DQNLoss(g, q, actions, target)
		a.params.ZeroGrad()
		g.Backward(loss)
		if c.MaxGradNorm > 0 {
			optim.ClipGradNorm(a.params.Grad, c.MaxGradNorm, 2)
		}
		a.opt.Step()
		sum += float64(loss.Item())
	}
	a.nUpdates += steps
	return sum / float64(steps)
}

// DQNLoss is the Huber loss between the values q (B, A) of the actions
// taken and their targets.
func DQNLoss(g *autograd.Tape, q *autograd.Var, actions []int, target []float32) *autograd.Var {
	qa := g.Neg(g.NLL(q, actions, autograd.NLLOptions{IgnoreIndex: -100, Reduction: autograd.ReduceNone}))
	return HuberLoss(g, qa, target)
}

// State returns the generator, the counters, the target network and the
// replay buffer.
func (a *DQN) State() State {
	s := State{RNG: a.gen.save(), Counters: map[string]int{"n_calls": a.nCalls, "n_updates": a.nUpdates},
		Floats: map[string]float64{"exploration_rate": a.eps}, Tensors: map[string][]float32{"target": a.target.Data}}
	a.buf.save(&s)
	return s
}

// SetState restores State.
func (a *DQN) SetState(s State) error {
	if err := a.gen.load(s.RNG); err != nil {
		return err
	}
	if err := loadTensor(s, "target", a.target.Data); err != nil {
		return err
	}
	a.eps = s.Floats["exploration_rate"]
	a.nCalls, a.nUpdates = s.Counters["n_calls"], s.Counters["n_updates"]
	return a.buf.load(s)
}
