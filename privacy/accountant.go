package privacy

// This file holds Accountant, the running RDP account of a training run,
// as Opacus's RDPAccountant keeps it: a history of (noise multiplier,
// sample rate, steps) whose RDP adds up.

import "fmt"

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
