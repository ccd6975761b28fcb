package classic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/kiln-ml/kiln/rl"
)

// CartPole-v1's constants (Barto, Sutton and Anderson, 1983).
const (
	cpGravity   = 9.8
	cpMassCart  = 1.0
	cpMassPole  = 0.1
	cpTotalMass = cpMassPole + cpMassCart
	cpLength    = 0.5 // half the pole's length
	cpPoleMassL = cpMassPole * cpLength
	cpForce     = 10.0
	cpTau       = 0.02 // seconds between state updates
	cpXLimit    = 2.4
)

// cpThetaLimit is 12 degrees in radians, computed as Gymnasium does.
var cpThetaLimit = 12 * 2 * math.Pi / 360

// CartPole is CartPole-v1: push a cart left (0) or right (1) to keep its
// pole up. Reward 1 per step, the last one included; the episode
// terminates when |x| > 2.4 or |theta| > 12 degrees and is truncated at
// 500 steps. The state is (x, x_dot, theta, theta_dot), integrated with
// explicit Euler steps of 0.02 s, and starts uniform in [-0.05, 0.05].
type CartPole struct {
	s   [4]float64
	lim limit
	obs [4]float32
}

var _ rl.Env = (*CartPole)(nil)

// NewCartPole returns CartPole-v1; call Reset before Step.
func NewCartPole() *CartPole { return &CartPole{lim: limit{max: 500}} }

// Spec returns CartPole-v1's spaces: the observation bounds are twice the
// termination limits, and the velocities are unbounded (float32's largest).
func (c *CartPole) Spec() rl.Spec {
	m := float32(math.MaxFloat32)
	high := []float32{cpXLimit * 2, m, float32(cpThetaLimit * 2), m}
	return rl.Spec{ID: "CartPole-v1", Obs: rl.Box{Low: neg(high), High: high}, Actions: 2, MaxSteps: 500}
}

// Reset draws the four state values uniform in [-0.05, 0.05).
func (c *CartPole) Reset(rng *rand.Rand) []float32 {
	for i := range c.s {
		c.s[i] = -0.05 + 0.1*rng.Float64()
	}
	c.lim.steps = 0
	return c.observe()
}

// Step pushes the cart with force -10 (action 0) or +10 (action 1).
func (c *CartPole) Step(action []float32) ([]float32, float64, bool, bool) {
	force := -cpForce
	if discrete(c.Spec(), action) == 1 {
		force = cpForce
	}
	x, xDot, theta, thetaDot := c.s[0], c.s[1], c.s[2], c.s[3]
	cos, sin := math.Cos(theta), math.Sin(theta)
	temp := (force + cpPoleMassL*thetaDot*thetaDot*sin) / cpTotalMass
	thetaAcc := (cpGravity*sin - cos*temp) / (cpLength * (4.0/3.0 - cpMassPole*cos*cos/cpTotalMass))
	xAcc := temp - cpPoleMassL*thetaAcc*cos/cpTotalMass
	x += cpTau * xDot
	xDot += cpTau * xAcc
	theta += cpTau * thetaDot
	thetaDot += cpTau * thetaAcc
	c.s = [4]float64{x, xDot, theta, thetaDot}
	term := x < -cpXLimit || x > cpXLimit || theta < -cpThetaLimit || theta > cpThetaLimit
	return c.observe(), 1, term, c.lim.tick()
}

func (c *CartPole) observe() []float32 {
	for i, v := range c.s {
		c.obs[i] = float32(v)
	}
	return c.obs[:]
}

// State returns x, x_dot, theta, theta_dot and the step count.
func (c *CartPole) State() []float64 { return append(c.s[:], float64(c.lim.steps)) }

// SetState restores a state from State.
func (c *CartPole) SetState(s []float64) error {
	return setState("CartPole-v1", c.s[:], &c.lim, s)
}

// Render draws the track from -2.4 to 2.4 with the cart (#) and the pole's
// angle.
func (c *CartPole) Render() string {
	deg := c.s[2] * 180 / math.Pi
	pole := "|"
	switch {
	case deg > 4:
		pole = "/"
	case deg < -4:
		pole = "\\"
	}
	w := 49
	i := int((c.s[0]+cpXLimit)/(2*cpXLimit)*float64(w-1) + 0.5)
	i = max(0, min(w-1, i))
	top := strings.Repeat(" ", i) + pole
	return fmt.Sprintf("%s\n%s  x=%+.3f theta=%+.2f°", top, track(w, float64(i)/float64(w-1), '#'), c.s[0], deg)
}

func neg(x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = -v
	}
	return out
}
