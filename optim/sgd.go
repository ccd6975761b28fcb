package optim

import "github.com/kiln-ml/kiln/internal/kernels"

// SGDConfig holds torch.optim.SGD's hyperparameters.
type SGDConfig struct {
	LR          float64
	Momentum    float64
	Dampening   float64
	WeightDecay float64
	Nesterov    bool
	Maximize    bool
}

// SGD is stochastic gradient descent with optional momentum, dampening,
// Nesterov momentum and L2 weight decay, as torch.optim.SGD.
type SGD struct {
	cfg     SGDConfig
	params  []float32
	grads   []float32
	buf     []float32
	started []float32 // one value: 1 once the momentum buffer holds a value
}

// NewSGD returns SGD over the flat params and grads.
func NewSGD(params, grads []float32, cfg SGDConfig) *SGD {
	checkLen(params, grads)
	s := &SGD{cfg: cfg, params: params, grads: grads, started: make([]float32, 1)}
	if cfg.Momentum != 0 {
		s.buf = make([]float32, len(params))
	}
	return s
}

// Step applies one update with kernels.SGDStep (vector code, or a Go
// loop with maximize).
func (s *SGD) Step() {
	co := s.cfg.StepCoef(s.started[0] == 0)
	kernels.SGDStep(s.params, s.grads[:len(s.params)], s.buf, &co)
	s.started[0] = 1
}

// LR returns the learning rate.
func (s *SGD) LR() float64 { return s.cfg.LR }

// SetLR sets the learning rate.
func (s *SGD) SetLR(lr float64) { s.cfg.LR = lr }

// Momentum returns the momentum factor.
func (s *SGD) Momentum() float64 { return s.cfg.Momentum }

// SetMomentum sets the momentum factor.
func (s *SGD) SetMomentum(m float64) { s.cfg.Momentum = m }

// State returns the momentum buffer.
func (s *SGD) State() map[string][]float32 {
	st := map[string][]float32{"started": s.started}
	if s.buf != nil {
		st["momentum_buffer"] = s.buf
	}
	return st
}
