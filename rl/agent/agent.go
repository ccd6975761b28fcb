package agent

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/rl"
)

// Agent learns to act in a vector of environments.
type Agent interface {
	// Iterate collects experience from v and updates the agent: one
	// rollout and its epochs for the on-policy agents, one rollout and its
	// gradient steps for DQN. total is the run's budget of environment
	// steps, which the schedules run over. It returns the update's
	// statistics (losses and the like) by name.
	Iterate(v *rl.Vec, total int) []Stat
	// Act writes one action per observation: obs is (n, obs dim), actions
	// (n). Deterministic acting takes the most likely (highest-valued)
	// action; otherwise it samples as in training (DQN: epsilon-greedy
	// with its current epsilon).
	Act(obs []float32, n int, deterministic bool, actions []float32)
	// Model holds every trainable network of the agent.
	Model() nn.Module
	// Params are the model's parameters and gradients.
	Params() *nn.ParamSet
	// Optimizer updates Params.
	Optimizer() optim.Optimizer
	// State returns what else the agent needs to continue exactly: its
	// generator, counters and buffers. SetState restores it.
	State() State
	SetState(State) error
}

// Stat is one named statistic of an update.
type Stat struct {
	Name  string
	Value float64
}

// State is an agent's state beyond its parameters and optimizer.
type State struct {
	RNG      string               `json:"rng"` // the agent's PCG, MarshalBinary in hex
	Counters map[string]int       `json:"counters,omitempty"`
	Floats   map[string]float64   `json:"floats,omitempty"`
	Tensors  map[string][]float32 `json:"-"` // saved as tensors, not JSON
}

// generator is a seeded PCG and the rand.Rand over it.
type generator struct {
	pcg *rand.PCG
	rng *rand.Rand
}

func newGenerator(seed uint64) generator {
	pcg := rand.NewPCG(seed, 0x853c49e6748fea9b)
	return generator{pcg: pcg, rng: rand.New(pcg)}
}

func (g generator) save() string {
	b, err := g.pcg.MarshalBinary()
	if err != nil {
		panic("agent: a PCG failed to marshal: " + err.Error()) // it never does
	}
	return hex.EncodeToString(b)
}

func (g generator) load(s string) error {
	b, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("agent: generator state: %w", err)
	}
	if err := g.pcg.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("agent: generator state: %w", err)
	}
	return nil
}

// loadTensor copies a saved tensor into dst, which it must match in length.
func loadTensor(s State, name string, dst []float32) error {
	src, ok := s.Tensors[name]
	if !ok {
		return fmt.Errorf("agent: saved state has no %q", name)
	}
	if len(src) != len(dst) {
		return fmt.Errorf("agent: saved %q has %d values, want %d", name, len(src), len(dst))
	}
	copy(dst, src)
	return nil
}

// sample draws an index from the log-probabilities logp (one row).
func sample(logp []float32, rng *rand.Rand) int {
	u := rng.Float64()
	var c float64
	for i, lp := range logp {
		c += math.Exp(float64(lp))
		if u < c {
			return i
		}
	}
	return len(logp) - 1 // u above the rounded total
}

// argmax returns the index of the largest value of a row; the first on ties.
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// checkDiscrete panics unless the environment's actions are discrete.
func checkDiscrete(spec rl.Spec) {
	if spec.Actions == 0 {
		panic(fmt.Sprintf("agent: %s has continuous actions; kiln's agents act in discrete action spaces", spec.ID))
	}
}
