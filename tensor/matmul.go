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
	if K == 0 {
		// An empty sum; the operands hold no elements, and their offsets
		// may point past their storage.
		dst.Zero()
		return dst
	}
	a, transA, lda := gemmOperand(a)
	b, transB, ldb := gemmOperand(b)
	if nb == 0 {
		kernels.Sgemm(transA, transB, M, N, K, 1, a.data[a.off:], lda, b.data[b.off:], ldb, 0, dst.data[dst.off:], N)
		return dst
	}
	st := [3][MaxDims]int{dst.strides, batchStrides(a, nb), batchStrides(b, nb)}
	if rows, ok := foldBatch(batch, nb, st[1], st[2], transA, lda, M); ok {
		// b is shared by the whole batch and a's matrices lie evenly
		// spaced one after another: one tall GEMM does all of them.
		kernels.Sgemm(false, transB, rows, N, K, 1, a.data[a.off:], lda, b.data[b.off:], ldb, 0, dst.data[dst.off:], N)
		return dst
	}
	// Walk the batch axes with one offset per operand; the walker's row is
	// the innermost batch axis.
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
// dimension. Like BLAS, the kernel wants the leading dimension to be at least
// the stored column count (and at least 1), so a matrix with neither unit
// stride, or whose rows overlap (stride 0, an expanded row), is copied.
func gemmOperand(t *Tensor) (*Tensor, bool, int) {
	r, c := t.ndim-2, t.ndim-1
	rows, cols := t.shape[r], t.shape[c]
	switch {
	case (t.strides[c] == 1 || cols <= 1) && (t.strides[r] >= cols || rows <= 1):
		return t, false, max(t.strides[r], cols, 1)
	case (t.strides[r] == 1 || rows <= 1) && (t.strides[c] >= rows || cols <= 1):
		return t, true, max(t.strides[c], rows, 1)
	}
	t = Contiguous(New(t.Shape()...), t)
	return t, false, max(cols, 1)
}

// foldBatch reports whether a batched product can run as one GEMM of
// batch*M rows, and that row count: b must be broadcast over every batch axis
// and a stored untransposed with each matrix's rows following the previous
// matrix's at the same stride lda.
func foldBatch(batch [MaxDims]int, nb int, sa, sb [MaxDims]int, transA bool, lda, M int) (int, bool) {
	if transA {
		return 0, false
	}
	rows, want := M, M*lda
	for i := nb - 1; i >= 0; i-- {
		if batch[i] == 1 {
			continue
		}
		if sb[i] != 0 || sa[i] != want {
			return 0, false
		}
		rows *= batch[i]
		want *= batch[i]
	}
	return rows, true
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
