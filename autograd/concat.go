package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/tensor"
)

// Joining Vars along an axis, the inverse of Narrow. The inputs live in the
// node's tape-owned input list, so any number of them records without
// allocating. This file leaves out torch.stack (Concat of inputs reshaped
// with a new axis of size 1 does it).

// Concat joins xs along axis, like torch.cat(xs, axis): the inputs agree in
// every dimension but axis. A single input is returned as it is.
func (g *Tape) Concat(axis int, xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("autograd: concat of no inputs")
	}
	if len(xs) == 1 {
		return xs[0]
	}
	nd := xs[0].value.NDim()
	axis = normAxis(axis, nd)
	var shape [tensor.MaxDims]int
	copy(shape[:], xs[0].Shape())
	total := 0
	for _, x := range xs {
		ok := x.value.NDim() == nd
		for i := 0; ok && i < nd; i++ {
			ok = i == axis || x.value.Dim(i) == shape[i]
		}
		if !ok {
			panic(fmt.Sprintf("autograd: concat along axis %d of shapes %v and %v", axis, xs[0].Shape(), x.Shape()))
		}
		total += x.value.Dim(axis)
	}
	shape[axis] = total
	y := g.newVarN(opConcat, shape[:nd], xs)
	y.ints[0] = axis
	outer, inner := prod(shape[:axis]), prod(shape[axis+1:nd])
	yd, stride, off := y.Data(), total*inner, 0
	for _, x := range xs {
		blk := x.value.Dim(axis) * inner
		xd := x.Data()
		for o := range outer {
			copy(yd[o*stride+off:o*stride+off+blk], xd[o*blk:(o+1)*blk])
		}
		off += blk
	}
	return y
}

func concatBackward(g *Tape, n *Var) {
	axis, shape := n.ints[0], n.Shape()
	outer, inner := prod(shape[:axis]), prod(shape[axis+1:])
	dy, stride, off := n.grad.Data(), shape[axis]*inner, 0
	for _, x := range n.ins {
		blk := x.value.Dim(axis) * inner
		if x.requiresGrad {
			gx := g.gradOf(x).Data()
			for o := range outer {
				addScaled(gx[o*blk:(o+1)*blk], dy[o*stride+off:o*stride+off+blk], 1)
			}
		}
		off += blk
	}
}
