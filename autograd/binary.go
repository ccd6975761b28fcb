package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/tensor"
)

// Elementwise binary ops with broadcasting. The backward rules compute the
// gradient in the output's shape and let accum sum it back over broadcast
// axes.

func (g *Tape) binary(o op, a, b *Var) *Var {
	shape, ok := tensor.BroadcastShape(a.Shape(), b.Shape())
	if !ok {
		panic(fmt.Sprintf("autograd: %s: shapes %v and %v do not broadcast", rules[o].name, a.Shape(), b.Shape()))
	}
	return g.newVar(o, shape, a, b)
}

// Add returns a + b.
func (g *Tape) Add(a, b *Var) *Var {
	y := g.binary(opAdd, a, b)
	tensor.Add(&y.value, &a.value, &b.value)
	return y
}

func addBackward(g *Tape, n *Var) {
	g.accum(n.in[0], &n.grad, 1)
	g.accum(n.in[1], &n.grad, 1)
}

// Sub returns a - b.
func (g *Tape) Sub(a, b *Var) *Var {
	y := g.binary(opSub, a, b)
	tensor.Sub(&y.value, &a.value, &b.value)
	return y
}

func subBackward(g *Tape, n *Var) {
	g.accum(n.in[0], &n.grad, 1)
	g.accum(n.in[1], &n.grad, -1)
}

// Mul returns a * b.
func (g *Tape) Mul(a, b *Var) *Var {
	y := g.binary(opMul, a, b)
	tensor.Mul(&y.value, &a.value, &b.value)
	return y
}

func mulBackward(g *Tape, n *Var) {
	a, b := n.in[0], n.in[1]
	if n.needs(0) {
		g.accum(a, tensor.Mul(g.Tensor(n.Shape()...), &n.grad, &b.value), 1)
	}
	if n.needs(1) {
		g.accum(b, tensor.Mul(g.Tensor(n.Shape()...), &n.grad, &a.value), 1)
	}
}

// Div returns a / b.
func (g *Tape) Div(a, b *Var) *Var {
	y := g.binary(opDiv, a, b)
	tensor.Div(&y.value, &a.value, &b.value)
	return y
}

func divBackward(g *Tape, n *Var) {
	a, b := n.in[0], n.in[1]
	t := tensor.Div(g.Tensor(n.Shape()...), &n.grad, &b.value) // dy / b
	if n.needs(1) {
		// d(a/b)/db = -a/b^2, computed as -(dy/b)*(a/b).
		u := tensor.Div(g.Tensor(n.Shape()...), &a.value, &b.value)
		g.accum(b, tensor.Mul(u, u, t), -1)
	}
	if n.needs(0) {
		g.accum(a, t, 1)
	}
}
