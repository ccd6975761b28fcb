package rl

import (
	"fmt"
	"math/rand/v2"
)

// Box is a continuous space: one closed interval per dimension.
type Box struct {
	Low, High []float32
}

// Dim returns the number of dimensions.
func (b Box) Dim() int { return len(b.Low) }

// Contains reports whether x lies inside the box.
func (b Box) Contains(x []float32) bool {
	if len(x) != len(b.Low) {
		return false
	}
	for i, v := range x {
		if !(v >= b.Low[i] && v <= b.High[i]) {
			return false
		}
	}
	return true
}

// Spec describes an environment: its name, observation space, action space
// and step limit.
type Spec struct {
	ID       string // Gymnasium's id, "CartPole-v1"
	Obs      Box    // the observation space
	Actions  int    // the number of discrete actions; 0 when actions are continuous
	Action   Box    // the continuous action space when Actions is 0
	MaxSteps int    // episodes are truncated after this many steps
}

// ActionDim returns the length of one action: 1 for a discrete action (its
// index), the box's dimension otherwise.
func (s Spec) ActionDim() int {
	if s.Actions > 0 {
		return 1
	}
	return s.Action.Dim()
}

// Env is one environment. A discrete action is passed as its index in
// action[0]. The observation slices that Reset and Step return belong to the
// environment and are overwritten by the next call.
type Env interface {
	// Spec describes the environment.
	Spec() Spec
	// Reset starts an episode from an initial state drawn from rng and
	// returns its observation.
	Reset(rng *rand.Rand) []float32
	// Step applies action and returns the observation, the reward, whether
	// the episode ended in a terminal state, and whether it was truncated
	// by the step limit.
	Step(action []float32) (obs []float32, reward float64, terminated, truncated bool)
	// State returns the full state, step count included, for checkpoints.
	State() []float64
	// SetState restores a state that State returned.
	SetState(s []float64) error
}

// NewRand returns the generator that seed names; Vec seeds its copies with
// NewRand(seed + i).
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// ResetSeed starts an episode of e from the initial state that seed alone
// fixes, Gymnasium's env.reset(seed=seed). The state differs from
// Gymnasium's, whose numpy generator kiln does not reproduce.
func ResetSeed(e Env, seed uint64) []float32 { return e.Reset(NewRand(seed)) }

// CheckAction returns an error when action is not in the spec's action space.
func (s Spec) CheckAction(action []float32) error {
	if s.Actions > 0 {
		if len(action) != 1 || action[0] != float32(int(action[0])) || action[0] < 0 || int(action[0]) >= s.Actions {
			return fmt.Errorf("rl: %s: action %v, want one index in [0, %d)", s.ID, action, s.Actions)
		}
		return nil
	}
	if len(action) != s.Action.Dim() {
		return fmt.Errorf("rl: %s: action of %d values, want %d", s.ID, len(action), s.Action.Dim())
	}
	return nil
}
