package nn

import (
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
)

// Activation layers: modules wrapping the tape's elementwise and softmax
// ops, with PyTorch's names and defaults. They hold no parameters. This
// file leaves out the rarer activations (ELU, SELU, SiLU, Mish, PReLU,
// Hardtanh...), which have no tape op yet.

var (
	_ Module = (*ReLU)(nil)
	_ Module = (*LeakyReLU)(nil)
	_ Module = (*Sigmoid)(nil)
	_ Module = (*Tanh)(nil)
	_ Module = (*GELU)(nil)
	_ Module = (*Softmax)(nil)
	_ Module = (*LogSoftmax)(nil)
)

// ReLU is nn.ReLU: max(x, 0), with gradient 0 at 0.
type ReLU struct{}

// NewReLU returns a ReLU layer.
func NewReLU() *ReLU { return &ReLU{} }

// Forward returns max(x, 0).
func (*ReLU) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var { return g.ReLU(x) }

// DefaultNegativeSlope is nn.LeakyReLU's default negative_slope.
const DefaultNegativeSlope = 0.01

// LeakyReLU is nn.LeakyReLU(negative_slope): x for x > 0, slope*x otherwise
// (the gradient at 0 is the slope, as in PyTorch).
type LeakyReLU struct {
	NegativeSlope float32
}

// NewLeakyReLU returns a LeakyReLU layer; PyTorch's default slope is
// DefaultNegativeSlope.
func NewLeakyReLU(negativeSlope float32) *LeakyReLU {
	return &LeakyReLU{NegativeSlope: negativeSlope}
}

// Forward returns leaky_relu(x).
func (l *LeakyReLU) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.LeakyReLU(x, l.NegativeSlope)
}

// Sigmoid is nn.Sigmoid: 1/(1+e^-x).
type Sigmoid struct{}

// NewSigmoid returns a Sigmoid layer.
func NewSigmoid() *Sigmoid { return &Sigmoid{} }

// Forward returns sigmoid(x).
func (*Sigmoid) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var { return g.Sigmoid(x) }

// Tanh is nn.Tanh.
type Tanh struct{}

// NewTanh returns a Tanh layer.
func NewTanh() *Tanh { return &Tanh{} }

// Forward returns tanh(x).
func (*Tanh) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var { return g.Tanh(x) }

// GELU is nn.GELU(approximate): x*Phi(x) exactly ("none"), or PyTorch's
// tanh approximation ("tanh").
type GELU struct {
	TanhApprox bool
}

// NewGELU returns a GELU layer; approximate is PyTorch's argument, "none"
// (its default) or "tanh".
func NewGELU(approximate string) *GELU {
	switch approximate {
	case "none":
		return &GELU{}
	case "tanh":
		return &GELU{TanhApprox: true}
	}
	panic(fmt.Sprintf("nn: GELU approximate %q, want \"none\" or \"tanh\"", approximate))
}

// Forward returns gelu(x).
func (l *GELU) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.GELU(x, l.TanhApprox)
}

// Softmax is nn.Softmax(dim): exp(x)/sum(exp(x)) along Dim (negative counts
// from the end). Unlike PyTorch there is no implicit dim.
type Softmax struct {
	Dim int
}

// NewSoftmax returns a Softmax layer over dim.
func NewSoftmax(dim int) *Softmax { return &Softmax{Dim: dim} }

// Forward returns softmax(x) along Dim.
func (s *Softmax) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.Softmax(x, s.Dim)
}

// LogSoftmax is nn.LogSoftmax(dim): x - logsumexp(x) along Dim.
type LogSoftmax struct {
	Dim int
}

// NewLogSoftmax returns a LogSoftmax layer over dim.
func NewLogSoftmax(dim int) *LogSoftmax { return &LogSoftmax{Dim: dim} }

// Forward returns log_softmax(x) along Dim.
func (s *LogSoftmax) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.LogSoftmax(x, s.Dim)
}
