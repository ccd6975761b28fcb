// Package nn holds kiln's layers and losses, built on autograd.
//
// A Module maps a Var to a Var. Modules that hold parameters, contain other
// modules, or behave differently in training and evaluation say so through
// the small optional interfaces below, and the walkers in this file find
// them: NamedParams names every parameter and buffer exactly as PyTorch's
// state_dict does ("conv1.weight", "fc2.bias", "bn.running_mean"), and
// SetTraining switches train/eval mode through the whole tree.
package nn

import (
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
)

// Module is a layer or a whole model.
type Module interface {
	Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var
}

// Param is a named tensor of a module: a trainable parameter, or a buffer
// (running statistics) that is saved with the model but not trained.
type Param struct {
	Name   string
	Var    *autograd.Var
	Buffer bool // true for non-trainable state such as BatchNorm's running_mean
	Int    bool // stored as an integer in PyTorch (num_batches_tracked, int64)
}

// Child is a named submodule.
type Child struct {
	Name   string
	Module Module
}

// ParamHolder is a module with parameters or buffers of its own; names are
// local ("weight"), and the walkers add the path.
type ParamHolder interface {
	OwnParams() []Param
}

// Container is a module made of submodules.
type Container interface {
	Children() []Child
}

// Moded is a module whose behaviour differs between training and evaluation
// (Dropout, BatchNorm).
type Moded interface {
	SetTraining(on bool)
}

// NamedParams returns every parameter and buffer of m, depth first in
// declaration order, with its full state_dict name.
func NamedParams(m Module) []Param {
	var out []Param
	walkParams("", m, &out)
	return out
}

func walkParams(prefix string, m Module, out *[]Param) {
	if h, ok := m.(ParamHolder); ok {
		for _, p := range h.OwnParams() {
			p.Name = prefix + p.Name
			*out = append(*out, p)
		}
	}
	if c, ok := m.(Container); ok {
		for _, ch := range c.Children() {
			walkParams(prefix+ch.Name+".", ch.Module, out)
		}
	}
}

// SetTraining puts m and all its submodules in training (on) or evaluation
// mode, like module.train() and module.eval().
func SetTraining(m Module, on bool) {
	if t, ok := m.(Moded); ok {
		t.SetTraining(on)
	}
	if c, ok := m.(Container); ok {
		for _, ch := range c.Children() {
			SetTraining(ch.Module, on)
		}
	}
}

// Sequential applies its modules in order; they are named "0", "1", ... as
// in torch.nn.Sequential.
type Sequential struct {
	Layers []Module
}

var _ Container = (*Sequential)(nil)

// NewSequential returns a Sequential of the given modules.
func NewSequential(layers ...Module) *Sequential { return &Sequential{Layers: layers} }

// Forward applies every layer in turn.
func (s *Sequential) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	for _, l := range s.Layers {
		x = l.Forward(g, x)
	}
	return x
}

// Children names the layers by their index.
func (s *Sequential) Children() []Child {
	cs := make([]Child, len(s.Layers))
	for i, l := range s.Layers {
		cs[i] = Child{Name: fmt.Sprint(i), Module: l}
	}
	return cs
}

// weightBias returns the "weight" and, when present, "bias" parameters that
// Linear and the convolutions hold.
func weightBias(w, b *autograd.Var) []Param {
	ps := []Param{{Name: "weight", Var: w}}
	if b != nil {
		ps = append(ps, Param{Name: "bias", Var: b})
	}
	return ps
}
