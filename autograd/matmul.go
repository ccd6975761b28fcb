package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/tensor"
)

// MatMul returns a @ b for a (..., M, K) and b (..., K, N) with broadcast
// batch axes.
func (g *Tape) MatMul(a, b *Var) *Var {
	out := tensor.MatMul(nil, &a.value, &b.value) // shape check and result
	y := g.newVar(opMatMul, out.Shape(), a, b)
	copy(y.Data(), out.Data())
	return y
}

func matmulBackward(g *Tape, n *Var) {
	a, b := n.in[0], n.in[1]
	if n.needs(0) {
		// dA = dC @ B^T, summed over broadcast batch axes.
		bt := b.value.T()
		g.accum(a, tensor.MatMul(nil, &n.grad, bt), 1)
	}
	if n.needs(1) {
		// dB = A^T @ dC.
		at := a.value.T()
		g.accum(b, tensor.MatMul(nil, at, &n.grad), 1)
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
