package autograd

import "github.com/kiln-ml/kiln/tensor"

// Shape ops. Reshape shares storage with its input; Permute materialises a
// contiguous copy, keeping every Var contiguous.

// Reshape returns x with a new shape (one dimension may be -1), sharing its
// storage.
func (g *Tape) Reshape(x *Var, shape ...int) *Var {
	v := g.vars.get()
	*v = Var{op: opReshape}
	x.value.ViewInto(&v.value, shape...)
	if !g.noGrad && x.requiresGrad {
		v.requiresGrad = true
		v.in[0] = x
		g.nodes = append(g.nodes, v)
	}
	return v
}

func reshapeBackward(g *Tape, n *Var) {
	g.accum(n.in[0], &n.grad, 1)
}

// Flatten returns x reshaped to (N, rest), like nn.Flatten() with its
// default start_dim=1.
func (g *Tape) Flatten(x *Var) *Var {
	return g.Reshape(x, x.value.Dim(0), -1)
}

// Permute returns x with its axes reordered (result axis i is x's axis
// axes[i]), as a contiguous copy.
func (g *Tape) Permute(x *Var, axes ...int) *Var {
	p := x.value.Permute(axes...)
	y := g.newVar(opPermute, p.Shape(), x)
	tensor.Copy(&y.value, p)
	for i, a := range axes {
		y.ints[i] = normAxis(a, len(axes))
	}
	return y
}

// Transpose returns x with axes a and b swapped, as a contiguous copy.
func (g *Tape) Transpose(x *Var, a, b int) *Var {
	nd := x.value.NDim()
	var axes [tensor.MaxDims]int
	for i := range nd {
		axes[i] = i
	}
	a, b = normAxis(a, nd), normAxis(b, nd)
	axes[a], axes[b] = b, a
	return g.Permute(x, axes[:nd]...)
}

func permuteBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	nd := x.value.NDim()
	var inv [tensor.MaxDims]int
	for i := 0; i < nd; i++ {
		inv[n.ints[i]] = i
	}
	gx := g.gradOf(x)
	t := tensor.Copy(g.Tensor(x.Shape()...), n.grad.Permute(inv[:nd]...))
	tensor.Add(gx, gx, t)
}
