package privacy

// This file holds Accountant, the running RDP account of a training run,
// as Opacus's RDPAccountant keeps it: a history of (noise multiplier,
// sample rate, steps) whose RDP adds up.

import (
	"encoding/json"
	"fmt"
	"math"
)

// Accountant keeps the privacy spent by a run's DP-SGD steps.
type Accountant struct {
	history []event
}

// event is a run of steps with the same settings.
type event struct {
	sigma, q float64
	steps    int
}

// Step records one step with noise multiplier sigma and sample rate q.
func (a *Accountant) Step(sigma, q float64) { a.Record(sigma, q, 1) }

// Record records steps steps with noise multiplier sigma and sample rate
// q: a resumed run restores its account with it.
func (a *Accountant) Record(sigma, q float64, steps int) {
	if steps <= 0 {
		return
	}
	if n := len(a.history); n > 0 && a.history[n-1].sigma == sigma && a.history[n-1].q == q {
		a.history[n-1].steps += steps
		return
	}
	a.history = append(a.history, event{sigma, q, steps})
}

// Steps returns the number of steps recorded.
func (a *Accountant) Steps() int {
	n := 0
	for _, e := range a.history {
		n += e.steps
	}
	return n
}

// Epsilon returns the epsilon spent so far for delta, over Opacus's
// default orders with Opacus's conversion, and the order that gives it.
func (a *Accountant) Epsilon(delta float64) (eps, order float64, err error) {
	orders := DefaultOrders()
	total := make([]float64, len(orders))
	for _, e := range a.history {
		r, err := RDP(e.q, e.sigma, e.steps, orders)
		if err != nil {
			return 0, 0, fmt.Errorf("privacy: accountant: %w", err)
		}
		for i := range total {
			total[i] += r[i]
		}
	}
	return PrivacySpent(orders, total, delta, Balle)
}

// maxAccountSteps bounds the steps an account read from JSON holds (far
// beyond any training run, and far from int's overflow).
const maxAccountSteps = 1 << 40

// accountJSON is one run of steps in an Accountant's JSON form.
type accountJSON struct {
	Sigma float64 `json:"noise_multiplier"`
	Q     float64 `json:"sample_rate"`
	Steps int     `json:"steps"`
}

// MarshalJSON writes the account as a list of runs of steps, each with
// its noise multiplier and sample rate: what a process keeps on disk to
// go on counting after a restart.
func (a Accountant) MarshalJSON() ([]byte, error) {
	out := make([]accountJSON, len(a.history))
	for i, e := range a.history {
		out[i] = accountJSON{e.sigma, e.q, e.steps}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote, refusing runs no DP-SGD
// step can have (a negative or non-finite noise multiplier, a sample rate
// outside (0, 1], fewer than one step).
func (a *Accountant) UnmarshalJSON(b []byte) error {
	var in []accountJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("privacy: account: %w", err)
	}
	var acc Accountant
	total := 0
	for i, e := range in {
		if !(e.Sigma >= 0) || math.IsInf(e.Sigma, 0) || !(e.Q > 0 && e.Q <= 1) || e.Steps < 1 || e.Steps > maxAccountSteps-total {
			return fmt.Errorf("privacy: account: run %d: noise multiplier %v, sample rate %v, %d steps: want sigma >= 0, 0 < q <= 1, 1 to %d steps in all",
				i, e.Sigma, e.Q, e.Steps, maxAccountSteps)
		}
		total += e.Steps
		acc.Record(e.Sigma, e.Q, e.Steps)
	}
	*a = acc
	return nil
}
