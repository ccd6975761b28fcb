package autograd

import (
	"fmt"
	"math"

	"github.com/kiln-ml/kiln/tensor"
)

// BCEWithLogits returns the per-element binary cross-entropy of logits x
// against targets t in [0, 1], PyTorch's
// F.binary_cross_entropy_with_logits(reduction='none'), in the stable form
// (1-t)*x + lw*(log1p(exp(-|x|)) + max(-x, 0)) with lw = 1 + (posWeight-1)*t,
// times weight. weight broadcasts to x; posWeight broadcasts along the last
// axis (classes). Either may be nil. Reductions are left to the caller.
func (g *Tape) BCEWithLogits(x *Var, t, weight, posWeight *tensor.Tensor) *Var {
	if !tensor.SameShape(&x.value, t) {
		panic(fmt.Sprintf("autograd: bce_with_logits: target %v for input %v", t.Shape(), x.Shape()))
	}
	y := g.newVar(opBCEWithLogits, x.Shape(), x)
	n := x.value.Len()
	// Saved per element: target, weight, log weight.
	aux := g.floats.get(3 * n)
	copy(aux[:n], tensor.Contiguous(nil, t).Data())
	w, lw := aux[n:2*n], aux[2*n:]
	fillBroadcast(g, w, weight, x.Shape(), 1)
	fillBroadcast(g, lw, posWeight, x.Shape(), 1)
	xs, tv, out := x.Data(), aux[:n], y.Data()
	for i, v := range xs {
		lw[i] = 1 + (lw[i]-1)*tv[i]
		xv := float64(v)
		sp := math.Log1p(math.Exp(-math.Abs(xv))) + math.Max(-xv, 0)
		out[i] = float32(((1-float64(tv[i]))*xv + float64(lw[i])*sp) * float64(w[i]))
	}
	y.aux = aux
	return y
}

// fillBroadcast writes src broadcast to shape into dst, or def when src is nil.
func fillBroadcast(g *Tape, dst []float32, src *tensor.Tensor, shape []int, def float32) {
	if src == nil {
		for i := range dst {
			dst[i] = def
		}
		return
	}
	t := g.headers.get()
	t.Init(dst, shape...)
	tensor.Copy(t, src.Expand(shape...))
}

func bceWithLogitsBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	k := x.value.Len()
	t, w, lw := n.aux[:k], n.aux[k:2*k], n.aux[2*k:]
	dx, dy, xs := g.gradOf(x).Data(), n.grad.Data(), x.Data()
	for i, v := range xs {
		s := tensor.SigmoidScalar(v)
		dx[i] += dy[i] * w[i] * ((1 - t[i]) - lw[i]*(1-s))
	}
}
