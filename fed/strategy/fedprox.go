package strategy

import (
	"fmt"
	"strconv"
)

// FedProx is Li et al.'s federated optimisation with a proximal term: the
// server aggregates exactly as FedAvg, and each client adds
// mu/2*||w - w_global||^2 to its loss, told mu by ClientConfig's
// "proximal_mu" (Flower's FedProx, flwr/server/strategy/fedprox.py).
type FedProx struct {
	FedAvg
	mu float64
}

var _ Strategy = (*FedProx)(nil)

func newFedProx(o Options) (Strategy, error) {
	if !(o.ProximalMu >= 0) || isInf(o.ProximalMu) {
		return nil, fmt.Errorf("strategy: fedprox: proximal mu %v, want a finite number >= 0", o.ProximalMu)
	}
	return &FedProx{mu: o.ProximalMu}, nil
}

// Name returns "fedprox".
func (*FedProx) Name() string { return "fedprox" }

// ClientConfig tells the clients the proximal term's mu.
func (s *FedProx) ClientConfig(int) map[string]string {
	return map[string]string{"proximal_mu": strconv.FormatFloat(s.mu, 'g', -1, 64)}
}

// Aggregate sets global to the weighted mean of the updates.
func (s *FedProx) Aggregate(_ int, global []float32, updates []Update) error {
	if err := checkMean(s.Name(), global, updates); err != nil {
		return err
	}
	return weightedMean(s.Name(), global, updates)
}

// SetState accepts only an empty state.
func (s *FedProx) SetState(st map[string][]float32) error { return noState(s.Name(), st) }
