package device

// This file holds the optimizer of a device classifier: the update runs on
// the device over the flat parameter and gradient buffers, with the
// coefficients optim computes for its own step; the learning rate, the
// momentum and the step count stay on the host, where schedules and
// training states read them. Gradient clipping runs on the device before
// the update. It leaves out optimizers optim lacks (Adagrad, LBFGS...) and
// per-parameter groups, which optim lacks too.

import (
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/optim"
)

// OptimizerSettings choose a device optimizer: Name is "adam" (or ""),
// "adamw", "sgd" or "rmsprop", configured by Adam, SGD or RMSprop, every
// option of optim's included (amsgrad, maximize, Nesterov, centered...).
type OptimizerSettings struct {
	Name    string
	Adam    optim.AdamConfig
	SGD     optim.SGDConfig
	RMSprop optim.RMSpropConfig
	// ClipNorm clips the gradients to this global L2 norm before each
	// update, as train.Classifier's ClipNorm does (0: off).
	ClipNorm float64
}

// Optimizer is Adam, AdamW, SGD or RMSprop with PyTorch's semantics,
// stepping on a backend. It is an optim.Optimizer (and optim.Momentum),
// so the loop's schedules drive it, and its State has the names and sizes
// of optim's own, so training states move between the host and a device.
// State's slices hold the device's values after Classifier.SyncToHost,
// and are read back by Classifier.SyncFromHost.
type Optimizer struct {
	set   OptimizerSettings
	kind  string // "adam", "adamw", "sgd" or "rmsprop"
	b     backend.Backend
	p, g  backend.Buffer
	state []stateBuf
	count []float32 // Adam's "step", SGD's "started"; unused by RMSprop
}

// stateBuf is one of the optimizer's state buffers on the device, under
// optim's name for it, and its host copy.
type stateBuf struct {
	name string
	dev  backend.Buffer
	host []float32
}

var (
	_ optim.Optimizer = (*Optimizer)(nil)
	_ optim.Momentum  = (*Optimizer)(nil)
)

// newOptimizer checks s and allocates the state optim's optimizer would
// have under s, for p.Len() parameters.
func newOptimizer(s OptimizerSettings, b backend.Backend, p, g backend.Buffer) (*Optimizer, error) {
	o := &Optimizer{set: s, kind: strings.ToLower(s.Name), b: b, p: p, g: g, count: make([]float32, 1)}
	var names []string
	switch o.kind {
	case "", "adam", "adamw":
		if o.kind == "" {
			o.kind = "adam"
		}
		names = []string{"exp_avg", "exp_avg_sq"}
		if s.Adam.AMSGrad {
			names = append(names, "max_exp_avg_sq")
		}
	case "sgd":
		if s.SGD.Momentum != 0 {
			names = []string{"momentum_buffer"}
		}
	case "rmsprop":
		names = []string{"square_avg"}
		if s.RMSprop.Centered {
			names = append(names, "grad_avg")
		}
		if s.RMSprop.Momentum > 0 {
			names = append(names, "momentum_buffer")
		}
	default:
		return nil, fmt.Errorf("device: optimizer %q has no device update (want adam, adamw, sgd or rmsprop)", s.Name)
	}
	for _, name := range names {
		buf, err := b.Alloc(p.Len())
		if err != nil {
			return nil, err
		}
		o.state = append(o.state, stateBuf{name: name, dev: buf, host: make([]float32, p.Len())})
	}
	return o, nil
}

// buf returns the device buffer of the state called name, or none.
func (o *Optimizer) buf(name string) backend.Buffer {
	for _, s := range o.state {
		if s.name == name {
			return s.dev
		}
	}
	return backend.Buffer{}
}

// Step applies one update on the device to the parameters, from the
// gradients the last backward pass left there.
func (o *Optimizer) Step() {
	if o.set.ClipNorm > 0 {
		o.b.ClipGradNorm(o.g, o.set.ClipNorm)
	}
	switch o.kind {
	case "sgd":
		co := o.set.SGD.StepCoef(o.count[0] == 0)
		o.b.SGDStep(o.p, o.g, o.buf("momentum_buffer"), co)
		o.count[0] = 1
	case "rmsprop":
		o.b.RMSpropStep(o.p, o.g, o.buf("square_avg"), o.buf("grad_avg"), o.buf("momentum_buffer"), o.set.RMSprop.StepCoef())
	default:
		o.count[0]++
		co := o.set.Adam.StepCoef(float64(o.count[0]))
		o.b.AdamStep(o.set.Adam.Mode(o.kind == "adamw"), o.p, o.g, o.buf("exp_avg"), o.buf("exp_avg_sq"), o.buf("max_exp_avg_sq"), co)
	}
}

// LR returns the learning rate.
func (o *Optimizer) LR() float64 {
	switch o.kind {
	case "sgd":
		return o.set.SGD.LR
	case "rmsprop":
		return o.set.RMSprop.LR
	}
	return o.set.Adam.LR
}

// SetLR sets the learning rate of the next steps.
func (o *Optimizer) SetLR(lr float64) {
	switch o.kind {
	case "sgd":
		o.set.SGD.LR = lr
	case "rmsprop":
		o.set.RMSprop.LR = lr
	default:
		o.set.Adam.LR = lr
	}
}

// Momentum returns SGD's or RMSprop's momentum or Adam's beta1, as
// optim's do.
func (o *Optimizer) Momentum() float64 {
	switch o.kind {
	case "sgd":
		return o.set.SGD.Momentum
	case "rmsprop":
		return o.set.RMSprop.Momentum
	}
	if o.set.Adam.Beta1 == 0 {
		return 0.9
	}
	return o.set.Adam.Beta1
}

// SetMomentum sets SGD's momentum or Adam's beta1 (OneCycle cycles it).
// RMSprop's stays: optim's RMSprop is no optim.Momentum, so no schedule
// cycles it on the host, and Classifier.Optimizer hides these methods
// for it.
func (o *Optimizer) SetMomentum(m float64) {
	switch o.kind {
	case "sgd":
		o.set.SGD.Momentum = m
	case "rmsprop":
	default:
		o.set.Adam.Beta1 = m
	}
}

// State returns the host copies of the optimizer's state under optim's
// names: "exp_avg", "exp_avg_sq", "step" and with amsgrad
// "max_exp_avg_sq" for Adam; "started" and "momentum_buffer" for SGD;
// "square_avg", "grad_avg" (centered) and "momentum_buffer" for RMSprop.
func (o *Optimizer) State() map[string][]float32 {
	st := map[string][]float32{}
	switch o.kind {
	case "sgd":
		st["started"] = o.count
	case "rmsprop":
	default:
		st["step"] = o.count
	}
	for _, s := range o.state {
		st[s.name] = s.host
	}
	return st
}

// download copies the device state into the host copies.
func (o *Optimizer) download() error {
	for _, s := range o.state {
		if err := o.b.Download(s.host, s.dev); err != nil {
			return err
		}
	}
	return nil
}

// upload copies the host copies into the device state.
func (o *Optimizer) upload() error {
	for _, s := range o.state {
		if err := o.b.Upload(s.dev, s.host); err != nil {
			return err
		}
	}
	return nil
}
