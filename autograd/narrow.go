package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/tensor"
)

// Slicing along one axis. A slice that is one block of its input's memory
// shares the input's storage, as Reshape does; any other is a contiguous
// copy, keeping every Var contiguous. This file leaves out strided slices
// (steps other than 1) and indexing by a list.

// Narrow returns the part of x from start to start+length along axis,
// PyTorch's x.narrow(axis, start, length). When every axis before axis has
// size 1 the result is a view of x's storage; otherwise it is a copy.
func (g *Tape) Narrow(x *Var, axis, start, length int) *Var {
	nd := x.value.NDim()
	axis = normAxis(axis, nd)
	dim := x.value.Dim(axis)
	if start < 0 || length < 0 || start+length > dim {
		panic(fmt.Sprintf("autograd: narrow of %v along axis %d from %d, length %d", x.Shape(), axis, start, length))
	}
	var shape [tensor.MaxDims]int
	copy(shape[:], x.Shape())
	shape[axis] = length
	outer, inner := prod(shape[:axis]), prod(shape[axis+1:nd])
	if outer == 1 {
		return g.view(x, start*inner, shape[:nd])
	}
	y := g.newVar(opNarrow, shape[:nd], x)
	blk, stride, off := length*inner, dim*inner, start*inner
	xd, yd := x.Data(), y.Data()
	for o := range outer {
		copy(yd[o*blk:(o+1)*blk], xd[o*stride+off:])
	}
	y.ints[0], y.ints[1], y.ints[2], y.ints[3] = outer, stride, off, blk
	return y
}

// view returns a Var of the given shape sharing x's elements from offset
// off on, recorded as a one-block narrow so that its gradient lands in the
// same place of x's gradient. Recurrent uses it to hand out the parts of
// its packed result.
func (g *Tape) view(x *Var, off int, shape []int) *Var {
	v := g.vars.get()
	*v = Var{op: opNarrow}
	n := prod(shape)
	v.value.Init(x.Data()[off:off+n], shape...)
	v.ints[0], v.ints[1], v.ints[2], v.ints[3] = 1, x.value.Len(), off, n
	if !g.noGrad && x.requiresGrad {
		v.requiresGrad = true
		v.in[0] = x
		g.nodes = append(g.nodes, v)
	}
	return v
}

func narrowBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	outer, stride, off, blk := n.ints[0], n.ints[1], n.ints[2], n.ints[3]
	gx, dy := g.gradOf(x).Data(), n.grad.Data()
	for o := range outer {
		addScaled(gx[o*stride+off:o*stride+off+blk], dy[o*blk:(o+1)*blk], 1)
	}
}
