package nn

import (
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// The flatten layer, a reshape that shares storage. This file leaves out
// Unflatten.

// Flatten is nn.Flatten(start_dim, end_dim): it merges axes StartDim through
// EndDim (inclusive; negative counts from the end) into one.
type Flatten struct {
	StartDim, EndDim int
}

var _ Module = (*Flatten)(nil)

// NewFlatten returns a Flatten layer; PyTorch's defaults are start_dim 1,
// end_dim -1, which turn (N, ...) into (N, rest).
func NewFlatten(startDim, endDim int) *Flatten {
	return &Flatten{StartDim: startDim, EndDim: endDim}
}

// Forward returns x with axes StartDim..EndDim merged, sharing x's storage.
// A 0-d input becomes 1-d, as torch.flatten does.
func (f *Flatten) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	in := x.Shape()
	nd := len(in)
	if nd == 0 {
		return g.Reshape(x, 1)
	}
	s, e := f.StartDim, f.EndDim
	if s < 0 {
		s += nd
	}
	if e < 0 {
		e += nd
	}
	if s < 0 || s >= nd || e < 0 || e >= nd || s > e {
		panic(fmt.Sprintf("nn: flatten(start_dim=%d, end_dim=%d) of a %dD input", f.StartDim, f.EndDim, nd))
	}
	var shape [tensor.MaxDims]int
	k := copy(shape[:], in[:s])
	merged := 1
	for _, d := range in[s : e+1] {
		merged *= d
	}
	shape[k] = merged
	k++
	k += copy(shape[k:], in[e+1:])
	return g.Reshape(x, shape[:k]...)
}
