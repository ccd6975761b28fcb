package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// The fully connected layer. This file leaves out LazyLinear and Bilinear.

// Linear is PyTorch's nn.Linear: y = x @ weight^T + bias for x of shape
// (..., In). Its state_dict entries are "weight" (Out, In) and "bias" (Out).
type Linear struct {
	In, Out int
	Weight  *autograd.Var // (Out, In)
	Bias    *autograd.Var // (Out), nil without bias
}

var (
	_ Module      = (*Linear)(nil)
	_ ParamHolder = (*Linear)(nil)
)

// NewLinear returns a Linear layer initialised as PyTorch does (see
// InitDefault), drawing from rng.
func NewLinear(in, out int, bias bool, rng *rand.Rand) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: linear with in_features %d, out_features %d", in, out))
	}
	l := &Linear{In: in, Out: out, Weight: autograd.NewVar(tensor.New(out, in), true)}
	var b *tensor.Tensor
	if bias {
		b = tensor.New(out)
		l.Bias = autograd.NewVar(b, true)
	}
	InitDefault(l.Weight.Value(), b, rng)
	return l
}

// Forward returns x @ weight^T + bias for x of shape (..., In), as one fused
// primitive.
func (l *Linear) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.Linear(x, l.Weight, l.Bias)
}

// OwnParams returns "weight" and, when present, "bias".
func (l *Linear) OwnParams() []Param {
	return weightBias(l.Weight, l.Bias)
}
