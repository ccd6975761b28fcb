package autograd

import (
	"github.com/kiln-ml/kiln/internal/kernels"
	"math"

	"github.com/kiln-ml/kiln/tensor"
)

// Elementwise unary ops share one primitive whose saved kind selects the
// derivative. Each derivative reads the input x or the output y, whichever
// is cheaper.

type unaryKind int

const (
	uNeg unaryKind = iota
	uExp
	uLog
	uSqrt
	uAbs
	uTanh
	uSigmoid
	uReLU
	uLeakyReLU
	uGELU
	uGELUTanh
	uPow
	uAddScalar
	uMulScalar
)

func (g *Tape) unary(k unaryKind, x *Var, p float32) *Var {
	y := g.newVar(opUnary, x.Shape(), x)
	y.ints[0], y.fl[0] = int(k), p
	xv, yv := &x.value, &y.value
	switch k {
	case uNeg:
		tensor.Neg(yv, xv)
	case uExp:
		tensor.Exp(yv, xv)
	case uLog:
		tensor.Log(yv, xv)
	case uSqrt:
		tensor.Sqrt(yv, xv)
	case uAbs:
		tensor.Abs(yv, xv)
	case uTanh:
		tensor.Tanh(yv, xv)
	case uSigmoid:
		tensor.Sigmoid(yv, xv)
	case uReLU:
		tensor.ReLU(yv, xv)
	case uLeakyReLU:
		tensor.LeakyReLU(yv, xv, p)
	case uGELU:
		tensor.GELU(yv, xv, false)
	case uGELUTanh:
		tensor.GELU(yv, xv, true)
	case uPow:
		tensor.PowScalar(yv, xv, p)
	case uAddScalar:
		tensor.AddScalar(yv, xv, p)
	case uMulScalar:
		tensor.MulScalar(yv, xv, p)
	}
	return y
}

// Neg returns -x.
func (g *Tape) Neg(x *Var) *Var { return g.unary(uNeg, x, 0) }

// Exp returns e^x.
func (g *Tape) Exp(x *Var) *Var { return g.unary(uExp, x, 0) }

// Log returns ln x.
func (g *Tape) Log(x *Var) *Var { return g.unary(uLog, x, 0) }

// Sqrt returns the square root of x.
func (g *Tape) Sqrt(x *Var) *Var { return g.unary(uSqrt, x, 0) }

// Abs returns |x|; its gradient at 0 is 0, as in PyTorch.
func (g *Tape) Abs(x *Var) *Var { return g.unary(uAbs, x, 0) }

// Tanh returns tanh x.
func (g *Tape) Tanh(x *Var) *Var { return g.unary(uTanh, x, 0) }

// Sigmoid returns 1/(1+e^-x).
func (g *Tape) Sigmoid(x *Var) *Var { return g.unary(uSigmoid, x, 0) }

// ReLU returns max(x, 0); its gradient at 0 is 0, as in PyTorch.
func (g *Tape) ReLU(x *Var) *Var { return g.unary(uReLU, x, 0) }

// LeakyReLU returns x for x > 0 and slope*x otherwise.
func (g *Tape) LeakyReLU(x *Var, slope float32) *Var { return g.unary(uLeakyReLU, x, slope) }

// GELU returns x*Phi(x); tanhApprox selects PyTorch's approximate='tanh'.
func (g *Tape) GELU(x *Var, tanhApprox bool) *Var {
	if tanhApprox {
		return g.unary(uGELUTanh, x, 0)
	}
	return g.unary(uGELU, x, 0)
}

// Pow returns x**p for a constant exponent p.
func (g *Tape) Pow(x *Var, p float32) *Var { return g.unary(uPow, x, p) }

// AddScalar returns x + c.
func (g *Tape) AddScalar(x *Var, c float32) *Var { return g.unary(uAddScalar, x, c) }

// MulScalar returns x * c.
func (g *Tape) MulScalar(x *Var, c float32) *Var { return g.unary(uMulScalar, x, c) }

func unaryBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	dy, ys := n.grad.Data(), n.value.Data()
	if unaryKind(n.ints[0]) == uReLU {
		// The first contribution to x's gradient writes it: no buffer to
		// clear and add to.
		if dx := g.freshGrad(x); dx != nil {
			kernels.ReLUGradInto(dx, dy, ys)
			return
		}
	}
	dx := g.gradOf(x).Data()
	xs := x.value.Data()
	p := n.fl[0]
	switch unaryKind(n.ints[0]) {
	case uNeg:
		addScaled(dx, dy, -1)
	case uAddScalar:
		addScaled(dx, dy, 1)
	case uMulScalar:
		addScaled(dx, dy, p)
	case uExp:
		for i, d := range dy {
			dx[i] += d * ys[i]
		}
	case uLog:
		for i, d := range dy {
			dx[i] += d / xs[i]
		}
	case uSqrt:
		for i, d := range dy {
			dx[i] += d / (2 * ys[i])
		}
	case uAbs:
		for i, d := range dy {
			switch {
			case xs[i] > 0:
				dx[i] += d
			case xs[i] < 0:
				dx[i] -= d
			}
		}
	case uTanh:
		for i, d := range dy {
			dx[i] += d * (1 - ys[i]*ys[i])
		}
	case uSigmoid:
		for i, d := range dy {
			dx[i] += d * ys[i] * (1 - ys[i])
		}
	case uReLU:
		tensor.ReLUGradSlice(dx, dy, ys)
	case uLeakyReLU:
		for i, d := range dy {
			if xs[i] > 0 {
				dx[i] += d
			} else {
				dx[i] += d * p
			}
		}
	case uGELU:
		for i, d := range dy {
			v := float64(xs[i])
			cdf := 0.5 * (1 + math.Erf(v/math.Sqrt2))
			pdf := math.Exp(-0.5*v*v) / math.Sqrt(2*math.Pi)
			dx[i] += d * float32(cdf+v*pdf)
		}
	case uGELUTanh:
		const k = 0.7978845608028654 // sqrt(2/pi)
		for i, d := range dy {
			v := float64(xs[i])
			inner := k * (v + 0.044715*v*v*v)
			t := math.Tanh(inner)
			dinner := k * (1 + 3*0.044715*v*v)
			dx[i] += d * float32(0.5*(1+t)+0.5*v*(1-t*t)*dinner)
		}
	case uPow:
		for i, d := range dy {
			dx[i] += d * p * float32(math.Pow(float64(xs[i]), float64(p-1)))
		}
	}
}
