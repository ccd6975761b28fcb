package strategy

import "fmt"

// FedAvgM is federated averaging with server momentum (Hsu et al. 2019),
// as Flower's FedAvgM (flwr/server/strategy/fedavgm.py) computes it: the
// pseudo-gradient g = global - mean is folded into the momentum
// m = ServerMomentum*m + g (m = g on the first round) and the next global
// parameters are global - ServerLR*m. With no momentum and a learning
// rate of 1 it returns the mean itself, as Flower does.
type FedAvgM struct {
	lr, mu   float64
	momentum []float32 // nil until the first round
}

var _ Strategy = (*FedAvgM)(nil)

func newFedAvgM(o Options) (Strategy, error) {
	if !(o.ServerLR > 0) || isInf(o.ServerLR) {
		return nil, fmt.Errorf("strategy: fedavgm: server learning rate %v, want a finite number > 0", o.ServerLR)
	}
	if !(o.ServerMomentum >= 0 && o.ServerMomentum < 1) {
		return nil, fmt.Errorf("strategy: fedavgm: server momentum %v, want 0 <= momentum < 1", o.ServerMomentum)
	}
	return &FedAvgM{lr: o.ServerLR, mu: o.ServerMomentum}, nil
}

// Name returns "fedavgm".
func (*FedAvgM) Name() string { return "fedavgm" }

// ClientConfig adds nothing.
func (*FedAvgM) ClientConfig(int) map[string]string { return map[string]string{} }

// Aggregate applies one step of server SGD with momentum to global.
func (s *FedAvgM) Aggregate(round int, global []float32, updates []Update) error {
	if err := checkMean(s.Name(), global, updates); err != nil {
		return err
	}
	mean := make([]float32, len(global))
	if err := weightedMean(s.Name(), mean, updates); err != nil {
		return err
	}
	if s.mu == 0 && s.lr == 1 {
		copy(global, mean)
		return nil
	}
	if s.mu > 0 {
		if s.momentum != nil && len(s.momentum) != len(global) {
			return fmt.Errorf("strategy: fedavgm: momentum of %d values restored, the model has %d", len(s.momentum), len(global))
		}
		fresh := round <= 1 || s.momentum == nil
		if fresh {
			s.momentum = make([]float32, len(global))
		}
		for i := range global {
			g := float64(global[i]) - float64(mean[i])
			if fresh {
				s.momentum[i] = float32(g)
			} else {
				s.momentum[i] = float32(s.mu*float64(s.momentum[i]) + g)
			}
		}
	}
	for i := range global {
		g := float64(global[i]) - float64(mean[i])
		if s.mu > 0 {
			g = float64(s.momentum[i])
		}
		global[i] = float32(float64(global[i]) - s.lr*g)
	}
	return nil
}

// State returns the momentum buffer ("momentum"), once there is one.
func (s *FedAvgM) State() map[string][]float32 {
	st := map[string][]float32{}
	if s.momentum != nil {
		st["momentum"] = clone(s.momentum)
	}
	return st
}

// SetState restores the momentum buffer; an empty state clears it.
func (s *FedAvgM) SetState(st map[string][]float32) error {
	if err := onlyKeys(s.Name(), st, "momentum"); err != nil {
		return err
	}
	s.momentum = clone(st["momentum"])
	return nil
}

// NeedsEach is false: the weighted sum suffices.
func (*FedAvgM) NeedsEach() bool { return false }
