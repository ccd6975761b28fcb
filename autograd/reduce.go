package autograd

import (
	"github.com/kiln-ml/kiln/tensor"
)

// Sum returns the sum of x over axis, keeping it as size 1 when keepdim.
func (g *Tape) Sum(x *Var, axis int, keepdim bool) *Var {
	axis = normAxis(axis, x.value.NDim())
	s, nd := reducedShape(x.Shape(), axis, keepdim)
	y := g.newVar(opSum, s[:nd], x)
	tensor.Sum(&y.value, &x.value, axis, keepdim)
	y.ints[0] = axis
	return y
}

func sumBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	dy := keepdimView(g, &n.grad, x.Shape(), n.ints[0])
	gx := g.gradOf(x)
	tensor.Add(gx, gx, dy)
}

// keepdimView views a reduced gradient with the reduced axis restored as 1,
// so that it broadcasts against the input.
func keepdimView(g *Tape, t *tensor.Tensor, inShape []int, axis int) *tensor.Tensor {
	var shape [tensor.MaxDims]int
	copy(shape[:], inShape)
	shape[axis] = 1
	v := g.headers.get()
	t.ViewInto(v, shape[:len(inShape)]...)
	return v
}

// reducedShape is shape without axis, or with it as 1 when keepdim.
func reducedShape(shape []int, axis int, keepdim bool) ([tensor.MaxDims]int, int) {
	var s [tensor.MaxDims]int
	nd := 0
	for i, d := range shape {
		if i == axis {
			if !keepdim {
				continue
			}
			d = 1
		}
		s[nd] = d
		nd++
	}
	return s, nd
}

func normAxis(axis, nd int) int {
	if axis < 0 {
		axis += nd
	}
	if axis < 0 || axis >= nd {
		panic("autograd: axis out of range")
	}
	return axis
}

// SumAll returns the sum of every element as a 0-d Var.
func (g *Tape) SumAll(x *Var) *Var {
	y := g.newVar(opSumAll, nil, x)
	y.Data()[0] = tensor.SumAll(&x.value)
	return y
}

func sumAllBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	d := n.grad.Data()[0]
	gx := g.gradOf(x).Data()
	for i := range gx {
		gx[i] += d
	}
}

// Mean returns the mean of x over axis; composite of Sum and MulScalar.
func (g *Tape) Mean(x *Var, axis int, keepdim bool) *Var {
	n := x.value.Dim(axis)
	return g.MulScalar(g.Sum(x, axis, keepdim), 1/float32(n))
}

// MeanAll returns the mean of every element; composite.
func (g *Tape) MeanAll(x *Var) *Var {
	return g.MulScalar(g.SumAll(x), 1/float32(x.value.Len()))
}

// Max returns the maximum of x over axis. Its gradient flows to the first
// maximal element, like the values of torch.max(x, dim).
func (g *Tape) Max(x *Var, axis int, keepdim bool) *Var {
	axis = normAxis(axis, x.value.NDim())
	s, nd := reducedShape(x.Shape(), axis, keepdim)
	y := g.newVar(opMax, s[:nd], x)
	tensor.Max(&y.value, &x.value, axis, keepdim)
	y.ints[0] = axis
	if y.requiresGrad {
		outer, k, inner := rowsAround(x.Shape(), axis)
		y.idx = g.ints(outer * inner)
		xs := x.Data()
		for o := 0; o < outer; o++ {
			for j := 0; j < inner; j++ {
				best, bi := xs[o*k*inner+j], 0
				for c := 1; c < k; c++ {
					if v := xs[(o*k+c)*inner+j]; v > best || (v != v && best == best) {
						best, bi = v, c
					}
				}
				y.idx[o*inner+j] = int32(bi)
			}
		}
	}
	return y
}

func maxBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	axis := n.ints[0]
	shape := x.Shape()
	outer, inner := 1, 1
	for i := 0; i < axis; i++ {
		outer *= shape[i]
	}
	for i := axis + 1; i < len(shape); i++ {
		inner *= shape[i]
	}
	k := shape[axis]
	gx, dy := g.gradOf(x).Data(), n.grad.Data()
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			r := o*inner + j
			gx[(o*k+int(n.idx[r]))*inner+j] += dy[r]
		}
	}
}
