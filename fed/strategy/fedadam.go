package strategy

import (
	"fmt"
	"math"
)

// FedAdam is Reddi et al.'s adaptive federated optimisation with Adam on
// the server, as Flower's FedAdam (flwr/server/strategy/fedadam.py, Flower
// 1.5 and later) computes it: delta = mean - global (mean weighted by the
// example counts), m = Beta1*m + (1-Beta1)*delta, v = Beta2*v +
// (1-Beta2)*delta^2 (both from zero), and the next global parameters are
// global + eta_t*m/(sqrt(v)+Tau) with the bias-corrected rate
// eta_t = Eta*sqrt(1-Beta2^(round+1))/(1-Beta1^(round+1)), round counted
// from 1 as Flower's server_round. m and v are kept in float32.
type FedAdam struct {
	eta, b1, b2, tau float64
	m, v             []float32 // nil until the first round
}

var _ Strategy = (*FedAdam)(nil)

func newFedAdam(o Options) (Strategy, error) {
	switch {
	case !(o.Eta > 0) || isInf(o.Eta):
		return nil, fmt.Errorf("strategy: fedadam: eta %v, want a finite number > 0", o.Eta)
	case !(o.Beta1 >= 0 && o.Beta1 < 1) || !(o.Beta2 >= 0 && o.Beta2 < 1):
		return nil, fmt.Errorf("strategy: fedadam: beta1 %v and beta2 %v, want each in [0, 1)", o.Beta1, o.Beta2)
	case !(o.Tau > 0) || isInf(o.Tau):
		return nil, fmt.Errorf("strategy: fedadam: tau %v, want a finite number > 0", o.Tau)
	}
	return &FedAdam{eta: o.Eta, b1: o.Beta1, b2: o.Beta2, tau: o.Tau}, nil
}

// Name returns "fedadam".
func (*FedAdam) Name() string { return "fedadam" }

// ClientConfig adds nothing: like Flower, which keeps eta_l but does not
// send it, the clients' learning rate is the server's to set.
func (*FedAdam) ClientConfig(int) map[string]string { return map[string]string{} }

// Aggregate applies one step of server Adam to global.
func (s *FedAdam) Aggregate(round int, global []float32, updates []Update) error {
	if err := checkMean(s.Name(), global, updates); err != nil {
		return err
	}
	mean := make([]float32, len(global))
	if err := weightedMean(s.Name(), mean, updates); err != nil {
		return err
	}
	if s.m == nil {
		s.m, s.v = make([]float32, len(global)), make([]float32, len(global))
	}
	if len(s.m) != len(global) || len(s.v) != len(global) {
		return fmt.Errorf("strategy: fedadam: moments of %d and %d values restored, the model has %d", len(s.m), len(s.v), len(global))
	}
	t := float64(round) + 1
	etaT := s.eta * math.Sqrt(1-math.Pow(s.b2, t)) / (1 - math.Pow(s.b1, t))
	for i := range global {
		d := float64(mean[i]) - float64(global[i])
		s.m[i] = float32(s.b1*float64(s.m[i]) + (1-s.b1)*d)
		s.v[i] = float32(s.b2*float64(s.v[i]) + (1-s.b2)*d*d)
		global[i] = float32(float64(global[i]) + etaT*float64(s.m[i])/(math.Sqrt(float64(s.v[i]))+s.tau))
	}
	return nil
}

// State returns the moments ("m", "v"), once there are some.
func (s *FedAdam) State() map[string][]float32 {
	st := map[string][]float32{}
	if s.m != nil {
		st["m"], st["v"] = clone(s.m), clone(s.v)
	}
	return st
}

// SetState restores the moments; an empty state clears them.
func (s *FedAdam) SetState(st map[string][]float32) error {
	if err := onlyKeys(s.Name(), st, "m", "v"); err != nil {
		return err
	}
	_, hasM := st["m"]
	_, hasV := st["v"]
	if hasM != hasV || len(st["m"]) != len(st["v"]) {
		return fmt.Errorf("strategy: fedadam: state has m of %d and v of %d values, want both or neither, of one length", len(st["m"]), len(st["v"]))
	}
	s.m, s.v = clone(st["m"]), clone(st["v"])
	return nil
}

// NeedsEach is false: the weighted sum suffices.
func (*FedAdam) NeedsEach() bool { return false }
