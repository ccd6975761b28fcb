package autograd

import (
	"math"

	"github.com/kiln-ml/kiln/tensor"
)

// The softmax family are primitives rather than compositions of exp and sum:
// their forward must be shifted by the row maximum to stay finite, and their
// backward rules are cheaper in closed form.

// Softmax returns exp(x)/sum(exp(x)) over axis.
func (g *Tape) Softmax(x *Var, axis int) *Var {
	y := g.newVar(opSoftmax, x.Shape(), x)
	y.ints[0] = normAxis(axis, x.value.NDim())
	tensor.Softmax(&y.value, &x.value, axis)
	return y
}

// LogSoftmax returns x - logsumexp(x) over axis.
func (g *Tape) LogSoftmax(x *Var, axis int) *Var {
	y := g.newVar(opLogSoftmax, x.Shape(), x)
	y.ints[0] = normAxis(axis, x.value.NDim())
	tensor.LogSoftmax(&y.value, &x.value, axis)
	return y
}

// rowsAround returns outer, n, inner for a contiguous shape around axis.
func rowsAround(shape []int, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for i := 0; i < axis; i++ {
		outer *= shape[i]
	}
	for i := axis + 1; i < len(shape); i++ {
		inner *= shape[i]
	}
	return outer, shape[axis], inner
}

func softmaxBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	// dx = y * (dy - sum(dy*y)).
	outer, k, inner := rowsAround(n.Shape(), n.ints[0])
	dx, dy, y := g.gradOf(x).Data(), n.grad.Data(), n.Data()
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*k*inner + j
			var s float64
			for c := 0; c < k; c++ {
				i := base + c*inner
				s += float64(dy[i]) * float64(y[i])
			}
			for c := 0; c < k; c++ {
				i := base + c*inner
				dx[i] += y[i] * (dy[i] - float32(s))
			}
		}
	}
}

func logSoftmaxBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	// dx = dy - exp(y) * sum(dy).
	outer, k, inner := rowsAround(n.Shape(), n.ints[0])
	dx, dy, y := g.gradOf(x).Data(), n.grad.Data(), n.Data()
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*k*inner + j
			var s float64
			for c := 0; c < k; c++ {
				s += float64(dy[base+c*inner])
			}
			for c := 0; c < k; c++ {
				i := base + c*inner
				dx[i] += dy[i] - float32(math.Exp(float64(y[i]))*s)
			}
		}
	}
}

// LogSumExp returns log(sum(exp(x))) over axis, computed stably.
func (g *Tape) LogSumExp(x *Var, axis int, keepdim bool) *Var {
	axis = normAxis(axis, x.value.NDim())
	s, nd := reducedShape(x.Shape(), axis, keepdim)
	y := g.newVar(opLogSumExp, s[:nd], x)
	tensor.LogSumExp(&y.value, &x.value, axis, keepdim)
	y.ints[0] = axis
	return y
}

func logSumExpBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	// dx = dy * exp(x - y), with y and dy broadcast over axis.
	outer, k, inner := rowsAround(x.Shape(), n.ints[0])
	dx, dy, y, xs := g.gradOf(x).Data(), n.grad.Data(), n.Data(), x.Data()
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			r := o*inner + j
			for c := 0; c < k; c++ {
				i := (o*k+c)*inner + j
				dx[i] += dy[r] * float32(math.Exp(float64(xs[i]-y[r])))
			}
		}
	}
}
