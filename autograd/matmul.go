package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/tensor"
)

// MatMul returns a @ b for a (..., M, K) and b (..., K, N) with broadcast
// batch axes.
func (g *Tape) MatMul(a, b *Var) *Var {
	as, bs := a.Shape(), b.Shape()
	if len(as) < 2 || len(bs) < 2 {
		panic(fmt.Sprintf("autograd: matmul needs rank >= 2, got %v and %v", as, bs))
	}
	batch, ok := tensor.BroadcastShape(as[:len(as)-2], bs[:len(bs)-2])
	if !ok {
		panic(fmt.Sprintf("autograd: matmul %v @ %v: batch axes do not broadcast", as, bs))
	}
	var shape [tensor.MaxDims]int
	nd := copy(shape[:], batch)
	shape[nd], shape[nd+1] = as[len(as)-2], bs[len(bs)-1]
	y := g.newVar(opMatMul, shape[:nd+2], a, b)
	tensor.MatMul(&y.value, &a.value, &b.value)
	return y
}

func matmulBackward(g *Tape, n *Var) {
	a, b := n.in[0], n.in[1]
	shape := n.Shape()
	nd := len(shape)
	var s [tensor.MaxDims]int
	copy(s[:], shape)
	if n.needs(0) {
		// dA = dC @ B^T in the output's batch shape; accum sums over
		// broadcast batch axes.
		s[nd-1] = a.value.Dim(-1)
		bt := g.headers.get()
		*bt = *b.value.T()
		g.accum(a, tensor.MatMul(g.Tensor(s[:nd]...), &n.grad, bt), 1)
	}
	if n.needs(1) {
		// dB = A^T @ dC.
		s[nd-2], s[nd-1] = b.value.Dim(-2), shape[nd-1]
		at := g.headers.get()
		*at = *a.value.T()
		g.accum(b, tensor.MatMul(g.Tensor(s[:nd]...), at, &n.grad), 1)
	}
}

// Linear returns x @ w^T + b for x of shape (..., in), w of shape (out, in)
// and b of shape (out) or nil: PyTorch's F.linear, fused into one GEMM.
func (g *Tape) Linear(x, w, b *Var) *Var {
	in := x.value.Dim(-1)
	if w.value.NDim() != 2 || w.value.Dim(1) != in {
		panic(fmt.Sprintf("autograd: linear: input %v, weight %v", x.Shape(), w.Shape()))
	}
	outF := w.value.Dim(0)
	if b != nil && !b.value.ShapeIs(outF) {
		panic(fmt.Sprintf("autograd: linear: bias %v, want [%d]", b.Shape(), outF))
	}
	var shape [tensor.MaxDims]int
	nd := copy(shape[:], x.Shape())
	shape[nd-1] = outF
	y := g.newVar(opLinear, shape[:nd], x, w, b)
	rowsN := x.value.Len() / in
	yd := y.Data()
	kernels.Sgemm(false, true, rowsN, outF, in, 1, x.Data(), in, w.Data(), in, 0, yd, outF)
	if b != nil {
		bd := b.Data()
		for r := 0; r < rowsN; r++ {
			row := yd[r*outF : (r+1)*outF]
			for j := range row {
				row[j] += bd[j]
			}
		}
	}
	return y
}

func linearBackward(g *Tape, n *Var) {
	x, w, b := n.in[0], n.in[1], n.in[2]
	in, outF := w.value.Dim(1), w.value.Dim(0)
	rowsN := x.value.Len() / in
	dy := n.grad.Data()
	if n.needs(0) {
		kernels.Sgemm(false, false, rowsN, in, outF, 1, dy, outF, w.Data(), in, 1, g.gradOf(x).Data(), in)
	}
	if g.layerHook != nil && (n.needs(1) || n.needs(2)) {
		g.layerHook(LayerGrad{X: &x.value, DY: &n.grad, Weight: w, Bias: b, g: g})
		return
	}
	if n.needs(1) {
		kernels.Sgemm(true, false, outF, in, rowsN, 1, dy, outF, x.Data(), in, 1, g.gradOf(w).Data(), in)
	}
	if n.needs(2) {
		db := g.gradOf(b).Data()
		for r := 0; r < rowsN; r++ {
			for j, d := range dy[r*outF : (r+1)*outF] {
				db[j] += d
			}
		}
	}
}
