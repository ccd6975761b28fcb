package classic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/kiln-ml/kiln/rl"
)

// Acrobot-v1's constants (Sutton 1996; Sutton and Barto's book dynamics).
const (
	acDt      = 0.2
	acL1      = 1.0 // link lengths [m]
	acM1      = 1.0 // link masses [kg]
	acM2      = 1.0
	acLC1     = 0.5 // positions of the centres of mass [m]
	acLC2     = 0.5
	acMOI     = 1.0 // moments of inertia of both links
	acGravity = 9.8
	acMaxVel1 = 4 * math.Pi
	acMaxVel2 = 9 * math.Pi
)

// Acrobot is Acrobot-v1: two links hang from a pivot; torque -1, 0 or +1
// (actions 0, 1, 2) on the joint between them must swing the free end a
// link's length above the pivot. Reward -1 per step, 0 on the terminating
// one; truncated at 500 steps. The state (theta1, theta2, dtheta1,
// dtheta2) is integrated by one fourth-order Runge-Kutta step of 0.2 s
// with the book's dynamics and no torque noise, the angles wrapped to
// [-pi, pi] and the velocities bounded by 4 pi and 9 pi. It starts uniform
// in [-0.1, 0.1], rounded to float32 as Gymnasium's is. The observation is
// (cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2).
type Acrobot struct {
	s   [4]float64
	lim limit
	obs [6]float32
}

var _ rl.Env = (*Acrobot)(nil)

// NewAcrobot returns Acrobot-v1; call Reset before Step.
func NewAcrobot() *Acrobot { return &Acrobot{lim: limit{max: 500}} }

// Spec returns Acrobot-v1's spaces.
func (a *Acrobot) Spec() rl.Spec {
	high := []float32{1, 1, 1, 1, float32(acMaxVel1), float32(acMaxVel2)}
	return rl.Spec{ID: "Acrobot-v1", Obs: rl.Box{Low: neg(high), High: high}, Actions: 3, MaxSteps: 500}
}

// Reset draws the state uniform in [-0.1, 0.1) and rounds it to float32.
func (a *Acrobot) Reset(rng *rand.Rand) []float32 {
	for i := range a.s {
		a.s[i] = float64(float32(-0.1 + 0.2*rng.Float64()))
	}
	a.lim.steps = 0
	return a.observe()
}

// Step applies torque action-1 for 0.2 s.
func (a *Acrobot) Step(action []float32) ([]float32, float64, bool, bool) {
	torque := float64(discrete(a.Spec(), action) - 1)
	ns := rk4(a.s, torque)
	ns[0] = wrap(ns[0], -math.Pi, math.Pi)
	ns[1] = wrap(ns[1], -math.Pi, math.Pi)
	ns[2] = math.Min(math.Max(ns[2], -acMaxVel1), acMaxVel1)
	ns[3] = math.Min(math.Max(ns[3], -acMaxVel2), acMaxVel2)
	a.s = ns
	term := -math.Cos(ns[0])-math.Cos(ns[1]+ns[0]) > 1.0
	reward := -1.0
	if term {
		reward = 0
	}
	return a.observe(), reward, term, a.lim.tick()
}

// dsdt returns the time derivative of s under torque tau.
func dsdt(s [4]float64, tau float64) [4]float64 {
	theta1, theta2, dtheta1, dtheta2 := s[0], s[1], s[2], s[3]
	d1 := acM1*acLC1*acLC1 + acM2*(acL1*acL1+acLC2*acLC2+2*acL1*acLC2*math.Cos(theta2)) + acMOI + acMOI
	d2 := acM2*(acLC2*acLC2+acL1*acLC2*math.Cos(theta2)) + acMOI
	phi2 := acM2 * acLC2 * acGravity * math.Cos(theta1+theta2-math.Pi/2.0)
	phi1 := -acM2*acL1*acLC2*dtheta2*dtheta2*math.Sin(theta2) -
		2*acM2*acL1*acLC2*dtheta2*dtheta1*math.Sin(theta2) +
		(acM1*acLC1+acM2*acL1)*acGravity*math.Cos(theta1-math.Pi/2) + phi2
	ddtheta2 := (tau + d2/d1*phi1 - acM2*acL1*acLC2*dtheta1*dtheta1*math.Sin(theta2) - phi2) /
		(acM2*acLC2*acLC2 + acMOI - d2*d2/d1)
	ddtheta1 := -(d2*ddtheta2 + phi1) / d1
	return [4]float64{dtheta1, dtheta2, ddtheta1, ddtheta2}
}

// rk4 integrates one step of acDt, in the order of Gymnasium's rk4.
func rk4(y [4]float64, tau float64) [4]float64 {
	const dt, dt2 = acDt, acDt / 2.0
	axpy := func(h float64, k [4]float64) (out [4]float64) {
		for i := range out {
			out[i] = y[i] + h*k[i]
		}
		return out
	}
	k1 := dsdt(y, tau)
	k2 := dsdt(axpy(dt2, k1), tau)
	k3 := dsdt(axpy(dt2, k2), tau)
	k4 := dsdt(axpy(dt, k3), tau)
	var out [4]float64
	for i := range out {
		out[i] = y[i] + dt/6.0*(k1[i]+2*k2[i]+2*k3[i]+k4[i])
	}
	return out
}

// wrap moves x into [lo, hi] by whole turns, Gymnasium's wrap.
func wrap(x, lo, hi float64) float64 {
	diff := hi - lo
	for x > hi {
		x -= diff
	}
	for x < lo {
		x += diff
	}
	return x
}

func (a *Acrobot) observe() []float32 {
	s := a.s
	a.obs = [6]float32{float32(math.Cos(s[0])), float32(math.Sin(s[0])), float32(math.Cos(s[1])), float32(math.Sin(s[1])),
		float32(s[2]), float32(s[3])}
	return a.obs[:]
}

// State returns theta1, theta2, dtheta1, dtheta2 and the step count.
func (a *Acrobot) State() []float64 { return append(a.s[:], float64(a.lim.steps)) }

// SetState restores a state from State.
func (a *Acrobot) SetState(s []float64) error { return setState("Acrobot-v1", a.s[:], &a.lim, s) }

// Render draws the height of the free end against the goal line.
func (a *Acrobot) Render() string {
	h := -math.Cos(a.s[0]) - math.Cos(a.s[1]+a.s[0]) // in [-2, 2]; the goal is above 1
	w := 41
	line := []byte(track(w, (h+2)/4, 'o'))
	line[int(3.0/4*float64(w-1)+0.5)] = '|'
	return fmt.Sprintf("%s  height=%+.2f (goal > 1) theta1=%+.2f theta2=%+.2f", strings.TrimRight(string(line), " "), h, a.s[0], a.s[1])
}
