package tensor

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// This file holds matrix multiplication. It leaves out the 1-D operand forms
// of torch.matmul (vector @ matrix): callers unsqueeze instead.

// MatMul sets dst = a @ b for a of shape (..., M, K) and b of shape
// (..., K, N), broadcasting the leading batch axes, and returns dst of shape
// (..., M, N). Transposed views are passed to the GEMM kernel as transposes,
// not copied; other strided matrices (a stride-0 row, a gap between columns)
// are copied first. dst must be contiguous and must not share storage with a
// or b, since the kernel overwrites it while reading them.
func MatMul(dst, a, b *Tensor) *Tensor {
	if a.ndim < 2 || b.ndim < 2 {
		panic(fmt.Sprintf("tensor: matmul needs rank >= 2, got %v and %v", a.Shape(), b.Shape()))
	}
	M, K := a.shape[a.ndim-2], a.shape[a.ndim-1]
	K2, N := b.shape[b.ndim-2], b.shape[b.ndim-1]
	if K != K2 {
		panic(fmt.Sprintf("tensor: matmul %v @ %v: inner dimensions differ", a.Shape(), b.Shape()))
	}
	batch, nb, ok := broadcastShape(a.shape[:a.ndim-2], b.shape[:b.ndim-2])
	if !ok {
		panic(fmt.Sprintf("tensor: matmul %v @ %v: batch axes do not broadcast", a.Shape(), b.Shape()))
	}
	var shape [MaxDims]int
	copy(shape[:], batch[:nb])
	shape[nb], shape[nb+1] = M, N
	dst = dest(dst, shape[:nb+2], "matmul")
	if !dst.IsContiguous() {
		panic("tensor: matmul into a non-contiguous destination")
	}
	if overlaps(dst, a) || overlaps(dst, b) {
		panic("tensor: matmul into a destination that shares storage with an operand")
	}
	if dst.Len() == 0 {
		return dst
	}
	a, transA, lda := gemmOperand(a)
	b, transB, ldb := gemmOperand(b)
	if nb == 0 {
		kernels.Sgemm(transA, transB, M, N, K, 1, a.data[a.off:], lda, b.data[b.off:], ldb, 0, dst.data[dst.off:], N)
		return dst
	}
	// Walk the batch axes with one offset per operand; the walker's row is
	// the innermost batch axis.
	st := [3][MaxDims]int{dst.strides, batchStrides(a, nb), batchStrides(b, nb)}
	w := newWalker(batch, nb, st, [3]int{dst.off, a.off, b.off})
	for r := 0; r < w.rows; r++ {
		od, oa, ob := w.off[0], w.off[1], w.off[2]
		for k := 0; k < w.n; k++ {
			kernels.Sgemm(transA, transB, M, N, K, 1, a.data[oa:], lda, b.data[ob:], ldb, 0, dst.data[od:], N)
			od, oa, ob = od+w.inc[0], oa+w.inc[1], ob+w.inc[2]
		}
		w.next()
	}
	return dst
}

// gemmOperand returns a tensor whose last two axes form a matrix the GEMM
// kernel can read directly, whether it is stored transposed, and its leading
// dimension. Matrices with neither unit stride are copied.
func gemmOperand(t *Tensor) (*Tensor, bool, int) {
	r, c := t.ndim-2, t.ndim-1
	switch {
	case (t.strides[c] == 1 || t.shape[c] == 1) && (t.strides[r] >= t.shape[c] || t.shape[r] == 1):
		return t, false, max(t.strides[r], t.shape[c])
	case (t.strides[r] == 1 || t.shape[r] == 1) && (t.strides[c] >= t.shape[r] || t.shape[c] == 1):
		return t, true, max(t.strides[c], t.shape[r])
	}
	t = Contiguous(New(t.Shape()...), t)
	return t, false, t.shape[c]
}

// batchStrides aligns t's batch-axis strides with the broadcast batch shape,
// with 0 for broadcast axes.
func batchStrides(t *Tensor, nb int) [MaxDims]int {
	var s [MaxDims]int
	lead := nb - (t.ndim - 2)
	for i := lead; i < nb; i++ {
		if t.shape[i-lead] != 1 {
			s[i] = t.strides[i-lead]
		}
	}
	return s
}
