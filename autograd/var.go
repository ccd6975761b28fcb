// Package autograd records operations on a Tape and runs reverse-mode
// differentiation over it.
//
// A Var is a node: its value, its gradient and the primitive op that made it.
// Every primitive op has its forward in a Tape method and its backward rule
// in the single table in ops.go; composite ops (Mean, Sub of a scalar, losses
// built from log-softmax...) only call primitives and have no rule of their
// own.
//
// Memory: a Tape owns the Vars and buffers its ops create and recycles them
// on Reset, so a training step that records the same graph every time
// reaches a steady state without heap allocation. Values produced on a tape
// are therefore valid only until its next Reset. Leaves (parameters and
// their gradients) are never owned by a tape.
//
// Invariant: every Var's value and gradient are contiguous tensors, so
// backward rules work on flat slices.
package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/tensor"
)

// Var is a value in the computation graph.
type Var struct {
	value        tensor.Tensor
	grad         tensor.Tensor
	hasGrad      bool
	requiresGrad bool
	leaf         bool
	// lastUse is, for a leaf during a Backward with a leaf hook, the index
	// of the first node that reads it: the last one backward visits. pass
	// says which Backward set it.
	lastUse int
	pass    uint32

	op op
	in [3]*Var
	// ins holds the inputs of ops that take more than three (Concat,
	// Recurrent) in a tape-owned slice; in is unused by those ops.
	ins []*Var

	// State an op saves for its backward rule.
	ints [8]int
	fl   [2]float32
	aux  []float32
	idx  []int32
}

// NewVar returns a leaf holding t (shared, not copied). Parameters are leaves
// with requiresGrad set; their gradients accumulate across Backward calls
// until ZeroGrad. t must be contiguous.
func NewVar(t *tensor.Tensor, requiresGrad bool) *Var {
	if !t.IsContiguous() {
		panic("autograd: NewVar of a non-contiguous tensor")
	}
	return &Var{value: *t, requiresGrad: requiresGrad, leaf: true}
}

// Value returns the tensor the Var holds. It aliases the Var.
func (v *Var) Value() *tensor.Tensor { return &v.value }

// Data returns the Var's values as a flat slice aliasing it.
func (v *Var) Data() []float32 { return v.value.Data() }

// Shape returns the value's shape.
func (v *Var) Shape() []int { return v.value.Shape() }

// Item returns the value of a one-element Var.
func (v *Var) Item() float32 { return v.value.Item() }

// RequiresGrad reports whether gradients flow to v.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// Grad returns the accumulated gradient, or nil when none has been computed.
func (v *Var) Grad() *tensor.Tensor {
	if !v.hasGrad {
		return nil
	}
	return &v.grad
}

// SetGrad makes t (shared, not copied) the storage of v's gradient. Models use
// it to place every parameter's gradient in one flat buffer. t must be
// contiguous with v's shape.
func (v *Var) SetGrad(t *tensor.Tensor) {
	if !tensor.SameShape(t, &v.value) || !t.IsContiguous() {
		panic(fmt.Sprintf("autograd: SetGrad %v for a Var of shape %v", t.Shape(), v.Shape()))
	}
	v.grad = *t
	v.hasGrad = true
}

// SetValue makes t (shared, not copied) the storage of a leaf's value, for
// the same purpose as SetGrad.
func (v *Var) SetValue(t *tensor.Tensor) {
	if !v.leaf || !tensor.SameShape(t, &v.value) || !t.IsContiguous() {
		panic(fmt.Sprintf("autograd: SetValue %v for a Var of shape %v", t.Shape(), v.Shape()))
	}
	v.value = *t
}

// ZeroGrad sets the gradient to zero, keeping its storage.
func (v *Var) ZeroGrad() {
	if v.hasGrad {
		v.grad.Zero()
	}
}
