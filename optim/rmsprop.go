package optim

import "math"

// RMSpropConfig holds torch.optim.RMSprop's hyperparameters. Zero Alpha and
// Eps take PyTorch's defaults 0.99 and 1e-8.
type RMSpropConfig struct {
	LR          float64
	Alpha       float64
	Eps         float64
	WeightDecay float64
	Momentum    float64
	Centered    bool
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
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.99
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	r := &RMSprop{cfg: cfg, params: params, grads: grads, sq: make([]float32, len(params))}
	if cfg.Centered {
		r.avg = make([]float32, len(params))
	}
	if cfg.Momentum > 0 {
		r.buf = make([]float32, len(params))
	}
	return r
}

// Step applies one update.
func (r *RMSprop) Step() {
	c := r.cfg
	lr, alpha, eps := float32(c.LR), float32(c.Alpha), float32(c.Eps)
	c1 := float32(1 - c.Alpha) // rounded from float64, as PyTorch does
	wd, mom := float32(c.WeightDecay), float32(c.Momentum)
	p := r.params
	for i, g := range r.grads[:len(p)] {
		if wd != 0 {
			g += wd * p[i]
		}
		r.sq[i] = r.sq[i]*alpha + c1*g*g
		var avg float32
		if r.avg != nil {
			r.avg[i] = r.avg[i]*alpha + g*c1
			avg = float32(math.Sqrt(float64(r.sq[i]-r.avg[i]*r.avg[i]))) + eps
		} else {
			avg = float32(math.Sqrt(float64(r.sq[i]))) + eps
		}
		if r.buf != nil {
			r.buf[i] = r.buf[i]*mom + g/avg
			p[i] -= lr * r.buf[i]
		} else {
			p[i] += (-lr * g) / avg
		}
	}
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
