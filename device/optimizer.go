package device

// This file holds the optimizer of a device classifier: the update runs on
// the device over the flat parameter and gradient buffers, with the
// coefficients optim computes for its own step; the learning rate, the
// momentum and the step count stay on the host, where schedules and
// training states read them. Gradient clipping runs on the device before
// the update. It leaves out RMSprop, AMSGrad and maximize.

import (
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/optim"
)

// OptimizerSettings choose a device optimizer: Name is "adam", "adamw" or
// "sgd", configured by Adam or SGD.
type OptimizerSettings struct {
	Name string
	Adam optim.AdamConfig
	SGD  optim.SGDConfig
	// ClipNorm clips the gradients to this global L2 norm before each
	// update, as train.Classifier's ClipNorm does (0: off).
	ClipNorm float64
}

// Optimizer is Adam, AdamW or SGD with PyTorch's semantics, stepping on a
// backend. It is an optim.Optimizer (and optim.Momentum), so the loop's
// schedules drive it, and its State has the names and sizes of optim's
// own, so training states move between the host and a device. State's
// slices hold the device's values after Classifier.SyncToHost, and are
// read back by Classifier.SyncFromHost.
type Optimizer struct {
	set     OptimizerSettings
	b       backend.Backend
	p, g    backend.Buffer
	m, v    backend.Buffer // Adam's moments, or SGD's momentum buffer in m
	hm, hv  []float32      // their host copies
	count   []float32      // Adam's step, SGD's "started"
	decoupl bool
}

var (
	_ optim.Optimizer = (*Optimizer)(nil)
	_ optim.Momentum  = (*Optimizer)(nil)
)

// newOptimizer checks s and allocates its state for n parameters.
func newOptimizer(s OptimizerSettings, b backend.Backend, p, g backend.Buffer) (*Optimizer, error) {
	o := &Optimizer{set: s, b: b, p: p, g: g, count: make([]float32, 1)}
	n := p.Len()
	var err error
	switch strings.ToLower(s.Name) {
	case "adam", "adamw", "":
		if s.Adam.AMSGrad || s.Adam.Maximize {
			return nil, fmt.Errorf("device: Adam with amsgrad or maximize has no device update")
		}
		o.decoupl = strings.EqualFold(s.Name, "adamw")
		if o.m, err = b.Alloc(n); err != nil {
			return nil, err
		}
		if o.v, err = b.Alloc(n); err != nil {
			return nil, err
		}
		o.hm, o.hv = make([]float32, n), make([]float32, n)
	case "sgd":
		if s.SGD.Maximize {
			return nil, fmt.Errorf("device: SGD with maximize has no device update")
		}
		if s.SGD.Momentum != 0 {
			if o.m, err = b.Alloc(n); err != nil {
				return nil, err
			}
			o.hm = make([]float32, n)
		}
	default:
		return nil, fmt.Errorf("device: optimizer %q has no device update (want adam, adamw or sgd)", s.Name)
	}
	return o, nil
}

func (o *Optimizer) sgd() bool { return strings.EqualFold(o.set.Name, "sgd") }

// Step applies one update on the device to the parameters, from the
// gradients the last backward pass left there.
func (o *Optimizer) Step() {
	if o.set.ClipNorm > 0 {
		o.b.ClipGradNorm(o.g, o.set.ClipNorm)
	}
	if o.sgd() {
		co := o.set.SGD.StepCoef(o.count[0] == 0)
		o.b.SGDStep(o.p, o.g, o.m, co)
		o.count[0] = 1
		return
	}
	o.count[0]++
	co := o.set.Adam.StepCoef(float64(o.count[0]))
	mode := kernels.AdamPlain
	switch {
	case o.decoupl:
		mode = kernels.AdamDecoupled
	case co.WD != 0:
		mode = kernels.AdamL2
	}
	o.b.AdamStep(mode, o.p, o.g, o.m, o.v, co)
}

// LR returns the learning rate.
func (o *Optimizer) LR() float64 {
	if o.sgd() {
		return o.set.SGD.LR
	}
	return o.set.Adam.LR
}

// SetLR sets the learning rate of the next steps.
func (o *Optimizer) SetLR(lr float64) {
	if o.sgd() {
		o.set.SGD.LR = lr
		return
	}
	o.set.Adam.LR = lr
}

// Momentum returns SGD's momentum or Adam's beta1, as optim's do.
func (o *Optimizer) Momentum() float64 {
	if o.sgd() {
		return o.set.SGD.Momentum
	}
	if o.set.Adam.Beta1 == 0 {
		return 0.9
	}
	return o.set.Adam.Beta1
}

// SetMomentum sets SGD's momentum or Adam's beta1 (OneCycle cycles it).
func (o *Optimizer) SetMomentum(m float64) {
	if o.sgd() {
		o.set.SGD.Momentum = m
		return
	}
	o.set.Adam.Beta1 = m
}

// State returns the host copies of the optimizer's state under optim's
// names: "exp_avg", "exp_avg_sq" and "step" for Adam, "started" and
// "momentum_buffer" for SGD.
func (o *Optimizer) State() map[string][]float32 {
	if o.sgd() {
		st := map[string][]float32{"started": o.count}
		if o.hm != nil {
			st["momentum_buffer"] = o.hm
		}
		return st
	}
	return map[string][]float32{"exp_avg": o.hm, "exp_avg_sq": o.hv, "step": o.count}
}

// download copies the device state into the host copies.
func (o *Optimizer) download() error {
	if o.hm != nil {
		if err := o.b.Download(o.hm, o.m); err != nil {
			return err
		}
	}
	if o.hv != nil {
		return o.b.Download(o.hv, o.v)
	}
	return nil
}

// upload copies the host copies into the device state.
func (o *Optimizer) upload() error {
	if o.hm != nil {
		if err := o.b.Upload(o.m, o.hm); err != nil {
			return err
		}
	}
	if o.hv != nil {
		return o.b.Upload(o.v, o.hv)
	}
	return nil
}
