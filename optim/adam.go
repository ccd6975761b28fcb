package optim

import "github.com/kiln-ml/kiln/internal/kernels"

// AdamConfig holds torch.optim.Adam's and AdamW's hyperparameters. Zero
// Beta1, Beta2 and Eps take PyTorch's defaults 0.9, 0.999 and 1e-8.
type AdamConfig struct {
	LR          float64
	Beta1       float64
	Beta2       float64
	Eps         float64
	WeightDecay float64
	AMSGrad     bool
	Maximize    bool
}

func (c *AdamConfig) defaults() {
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
}

// Adam is torch.optim.Adam (decoupled false: weight decay is added to the
// gradient) or, made by NewAdamW, torch.optim.AdamW (decoupled weight decay).
type Adam struct {
	cfg       AdamConfig
	decoupled bool
	params    []float32
	grads     []float32
	m, v, vM  []float32
	step      []float32 // one value: the step count, exact up to 2^24
}

// NewAdam returns Adam over the flat params and grads.
func NewAdam(params, grads []float32, cfg AdamConfig) *Adam {
	return newAdam(params, grads, cfg, false)
}

// NewAdamW returns AdamW over the flat params and grads. PyTorch's AdamW
// default weight decay is 0.01; a zero WeightDecay here means none.
func NewAdamW(params, grads []float32, cfg AdamConfig) *Adam {
	return newAdam(params, grads, cfg, true)
}

func newAdam(params, grads []float32, cfg AdamConfig, decoupled bool) *Adam {
	checkLen(params, grads)
	cfg.defaults()
	a := &Adam{cfg: cfg, decoupled: decoupled, params: params, grads: grads,
		m: make([]float32, len(params)), v: make([]float32, len(params)), step: make([]float32, 1)}
	if cfg.AMSGrad {
		a.vM = make([]float32, len(params))
	}
	return a
}

// Step applies one update, in the order of PyTorch's single-tensor Adam.
func (a *Adam) Step() {
	a.step[0]++
	// Coefficients are rounded from float64, as PyTorch rounds its Python
	// scalars: 1-float32(0.999) would differ from float32(1-0.999).
	co := a.cfg.StepCoef(float64(a.step[0]))
	p := a.params
	if a.vM != nil {
		kernels.AdamAMSGradStep(a.cfg.Mode(a.decoupled), p, a.grads[:len(p)], a.m, a.v, a.vM, &co)
		return
	}
	kernels.AdamStep(a.cfg.Mode(a.decoupled), p, a.grads[:len(p)], a.m, a.v, &co)
}

// LR returns the learning rate.
func (a *Adam) LR() float64 { return a.cfg.LR }

// SetLR sets the learning rate.
func (a *Adam) SetLR(lr float64) { a.cfg.LR = lr }

// Momentum returns beta1, which OneCycle schedules cycle.
func (a *Adam) Momentum() float64 { return a.cfg.Beta1 }

// SetMomentum sets beta1.
func (a *Adam) SetMomentum(m float64) { a.cfg.Beta1 = m }

// State returns the moment estimates and the step count.
func (a *Adam) State() map[string][]float32 {
	st := map[string][]float32{"exp_avg": a.m, "exp_avg_sq": a.v, "step": a.step}
	if a.vM != nil {
		st["max_exp_avg_sq"] = a.vM
	}
	return st
}
