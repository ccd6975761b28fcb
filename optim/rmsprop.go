package optim

import "github.com/kiln-ml/kiln/internal/kernels"

// RMSpropConfig holds torch.optim.RMSprop's hyperparameters. Zero Alpha and
// Eps take PyTorch's defaults 0.99 and 1e-8.
type RMSpropConfig struct {
	LR          float64
	Alpha       float64
	Eps         float64
	WeightDecay float64
	Momentum    float64
	Centered    bool
	Maximize    bool
}

func (c *RMSpropConfig) defaults() {
	if c.Alpha == 0 {
		c.Alpha = 0.99
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
}

// RMSprop is torch.optim.RMSprop.
type RMSprop struct {
	cfg    RMSpropConfig
	params []float32
	grads  []float32
	sq     []float32
	avg    []float32
	buf    []float32
}

// NewRMSprop returns RMSprop over the flat params and grads.
func NewRMSprop(params, grads []float32, cfg RMSpropConfig) *RMSprop {
	checkLen(params, grads)
	cfg.defaults()
	r := &RMSprop{cfg: cfg, params: params, grads: grads, sq: make([]float32, len(params))}
	if cfg.Centered {
		r.avg = make([]float32, len(params))
	}
	if cfg.Momentum > 0 {
		r.buf = make([]float32, len(params))
	}
	return r
}

// Step applies one update with kernels.RMSpropStep, which the CPU
// backend runs too.
func (r *RMSprop) Step() {
	co := r.cfg.StepCoef()
	kernels.RMSpropStep(r.params, r.grads[:len(r.params)], r.sq, r.avg, r.buf, &co)
}

// LR returns the learning rate.
func (r *RMSprop) LR() float64 { return r.cfg.LR }

// SetLR sets the learning rate.
func (r *RMSprop) SetLR(lr float64) { r.cfg.LR = lr }

// State returns the running averages and momentum buffer.
func (r *RMSprop) State() map[string][]float32 {
	st := map[string][]float32{"square_avg": r.sq}
	if r.avg != nil {
		st["grad_avg"] = r.avg
	}
	if r.buf != nil {
		st["momentum_buffer"] = r.buf
	}
	return st
}
