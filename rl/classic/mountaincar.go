package classic

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/rl"
)

// MountainCar-v0's constants (Moore 1990).
const (
	mcMinPos   = -1.2
	mcMaxPos   = 0.6
	mcMaxSpeed = 0.07
	mcGoalPos  = 0.5
	mcForce    = 0.001
	mcGravity  = 0.0025
)

// MountainCar is MountainCar-v0: accelerate left (0), not at all (1) or
// right (2) to drive an underpowered car out of a valley to the flag at
// position 0.5. Reward -1 per step; truncated at 200 steps. The state is
// (position, velocity), velocity clipped to [-0.07, 0.07] and position to
// [-1.2, 0.6], where the left wall stops the car. It starts at a position
// uniform in [-0.6, -0.4) at rest.
type MountainCar struct {
	s   [2]float64
	lim limit
	obs [2]float32
}

var _ rl.Env = (*MountainCar)(nil)

// NewMountainCar returns MountainCar-v0; call Reset before Step.
func NewMountainCar() *MountainCar { return &MountainCar{lim: limit{max: 200}} }

// Spec returns MountainCar-v0's spaces.
func (m *MountainCar) Spec() rl.Spec {
	return rl.Spec{ID: "MountainCar-v0", Obs: rl.Box{Low: []float32{mcMinPos, -mcMaxSpeed}, High: []float32{mcMaxPos, mcMaxSpeed}},
		Actions: 3, MaxSteps: 200}
}

// Reset places the car uniform in [-0.6, -0.4) at rest.
func (m *MountainCar) Reset(rng *rand.Rand) []float32 {
	m.s = [2]float64{-0.6 + 0.2*rng.Float64(), 0}
	m.lim.steps = 0
	return m.observe()
}

// Step applies one action.
func (m *MountainCar) Step(action []float32) ([]float32, float64, bool, bool) {
	a := discrete(m.Spec(), action)
	pos, vel := m.s[0], m.s[1]
	vel += float64(a-1)*mcForce + math.Cos(3*pos)*(-mcGravity)
	vel = math.Min(math.Max(vel, -mcMaxSpeed), mcMaxSpeed)
	pos += vel
	pos = math.Min(math.Max(pos, mcMinPos), mcMaxPos)
	if pos == mcMinPos && vel < 0 {
		vel = 0
	}
	m.s = [2]float64{pos, vel}
	term := pos >= mcGoalPos && vel >= 0
	return m.observe(), -1, term, m.lim.tick()
}

func (m *MountainCar) observe() []float32 {
	m.obs = [2]float32{float32(m.s[0]), float32(m.s[1])}
	return m.obs[:]
}

// State returns position, velocity and the step count.
func (m *MountainCar) State() []float64 { return append(m.s[:], float64(m.lim.steps)) }

// SetState restores a state from State.
func (m *MountainCar) SetState(s []float64) error {
	return setState("MountainCar-v0", m.s[:], &m.lim, s)
}

// Render draws the car (C) between the left wall and the flag (F).
func (m *MountainCar) Render() string {
	w := 49
	line := []byte(track(w, (m.s[0]-mcMinPos)/(mcMaxPos-mcMinPos), 'C'))
	flag := int((mcGoalPos-mcMinPos)/(mcMaxPos-mcMinPos)*float64(w-1) + 0.5)
	if line[flag] == '-' {
		line[flag] = 'F'
	}
	return fmt.Sprintf("|%s|  position=%+.3f velocity=%+.4f", line, m.s[0], m.s[1])
}
