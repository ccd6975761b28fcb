package classic

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/rl"
)

// Pendulum-v1's constants.
const (
	pdMaxSpeed  = 8.0
	pdMaxTorque = 2.0
	pdDt        = 0.05
	pdG         = 10.0
	pdM         = 1.0
	pdL         = 1.0
)

// Pendulum is Pendulum-v1: swing a pendulum up and hold it with a torque
// in [-2, 2] (one continuous action, clipped). The reward is -(theta^2 +
// 0.1 theta_dot^2 + 0.001 u^2) with theta normalised to [-pi, pi); it never
// terminates and is truncated at 200 steps. The state (theta, theta_dot)
// starts uniform in [-pi, pi) x [-1, 1); the observation is (cos theta,
// sin theta, theta_dot).
type Pendulum struct {
	s   [2]float64
	lim limit
	obs [3]float32
}

var _ rl.Env = (*Pendulum)(nil)

// NewPendulum returns Pendulum-v1 with g = 10; call Reset before Step.
func NewPendulum() *Pendulum { return &Pendulum{lim: limit{max: 200}} }

// Spec returns Pendulum-v1's spaces.
func (p *Pendulum) Spec() rl.Spec {
	high := []float32{1, 1, pdMaxSpeed}
	return rl.Spec{ID: "Pendulum-v1", Obs: rl.Box{Low: neg(high), High: high},
		Action: rl.Box{Low: []float32{-pdMaxTorque}, High: []float32{pdMaxTorque}}, MaxSteps: 200}
}

// Reset draws theta uniform in [-pi, pi) and theta_dot in [-1, 1).
func (p *Pendulum) Reset(rng *rand.Rand) []float32 {
	p.s[0] = -math.Pi + 2*math.Pi*rng.Float64()
	p.s[1] = -1 + 2*rng.Float64()
	p.lim.steps = 0
	return p.observe()
}

// Step applies the torque action[0], clipped to [-2, 2], for 0.05 s.
func (p *Pendulum) Step(action []float32) ([]float32, float64, bool, bool) {
	if err := p.Spec().CheckAction(action); err != nil {
		panic(err.Error())
	}
	th, thDot := p.s[0], p.s[1]
	u := math.Min(math.Max(float64(action[0]), -pdMaxTorque), pdMaxTorque)
	an := angleNormalize(th)
	costs := an*an + 0.1*thDot*thDot + 0.001*(u*u)
	newThDot := thDot + (3*pdG/(2*pdL)*math.Sin(th)+3.0/(pdM*pdL*pdL)*u)*pdDt
	newThDot = math.Min(math.Max(newThDot, -pdMaxSpeed), pdMaxSpeed)
	newTh := th + newThDot*pdDt
	p.s = [2]float64{newTh, newThDot}
	return p.observe(), -costs, false, p.lim.tick()
}

// angleNormalize maps x to [-pi, pi) with Python's floored modulo.
func angleNormalize(x float64) float64 {
	m := math.Mod(x+math.Pi, 2*math.Pi)
	if m < 0 {
		m += 2 * math.Pi
	}
	return m - math.Pi
}

func (p *Pendulum) observe() []float32 {
	p.obs = [3]float32{float32(math.Cos(p.s[0])), float32(math.Sin(p.s[0])), float32(p.s[1])}
	return p.obs[:]
}

// State returns theta, theta_dot and the step count.
func (p *Pendulum) State() []float64 { return append(p.s[:], float64(p.lim.steps)) }

// SetState restores a state from State.
func (p *Pendulum) SetState(s []float64) error { return setState("Pendulum-v1", p.s[:], &p.lim, s) }

// Render draws the angle from upright on a dial from -180 to 180 degrees.
func (p *Pendulum) Render() string {
	a := angleNormalize(p.s[0])
	return fmt.Sprintf("[%s]  theta=%+7.2f° theta_dot=%+.2f", track(37, (a+math.Pi)/(2*math.Pi), 'o'), a*180/math.Pi, p.s[1])
}
