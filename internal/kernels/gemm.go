// Package kernels holds kiln's hot loops on raw float32 slices: matrix
// multiplication and the vector kernels the engine is built on. Nothing here
// knows about shapes beyond the integers it is given.
package kernels

// This file is the SGEMM entry point: argument checks and the trivial cases.
// The blocked algorithm is in gemm_block.go, packing in gemm_pack.go, the
// thread split in gemm_threads.go and the micro-kernels in gemm_*_amd64.*
// and gemm_kernel_go.go. It leaves out complex types and double precision.

//go:generate sh -c "cd asm && go run . -kind gemm -out ../gemm_amd64.s -stubs ../gemm_stub_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -kind vec -out ../vec_amd64.s -stubs ../vec_stub_amd64.go -pkg kernels"

import "fmt"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where
// op(X) is X or its transpose. op(A) is m x k, op(B) is k x n and C is m x n;
// lda, ldb and ldc are the row strides of A, B and C as stored. As in BLAS,
// beta == 0 overwrites C without reading it, and alpha == 0 or k == 0 reads
// neither A nor B. Sgemm panics when a stride or slice is too short for the
// shape: that is a bug in the caller.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(Threads(), gemmArgs{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc})
}

// sgemm checks g and runs it on up to threads goroutines.
func sgemm(threads int, g gemmArgs) {
	g.check()
	if g.m == 0 || g.n == 0 {
		return
	}
	if g.alpha == 0 || g.k == 0 {
		scaleMatrix(g.m, g.n, g.beta, g.c, g.ldc)
		return
	}
	sgemmParallel(activeKernel, threads, &g)
}

// gemmArgs carries one Sgemm call so that the blocked driver and the thread
// split can pass it around (and through a channel) without allocating.
type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// check panics unless every matrix fits its slice. The packing code is
// bounds-checked Go, but the micro-kernels write C through a raw pointer, so
// C must be proven large enough here.
func (g *gemmArgs) check() {
	if g.m < 0 || g.n < 0 || g.k < 0 {
		panic(fmt.Sprintf("kernels: Sgemm: negative size m=%d n=%d k=%d", g.m, g.n, g.k))
	}
	ar, ac := g.m, g.k
	if g.transA {
		ar, ac = ac, ar
	}
	br, bc := g.k, g.n
	if g.transB {
		br, bc = bc, br
	}
	// A and B need only be present when they are read.
	read := g.m > 0 && g.n > 0 && g.k > 0 && g.alpha != 0
	checkMatrix("A", ar, ac, g.a, g.lda, read)
	checkMatrix("B", br, bc, g.b, g.ldb, read)
	checkMatrix("C", g.m, g.n, g.c, g.ldc, true)
}

// checkMatrix panics unless the row stride ld covers cols and, when read is
// set, a rows x cols matrix with that stride fits in s.
func checkMatrix(name string, rows, cols int, s []float32, ld int, read bool) {
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("kernels: Sgemm: ld%s=%d is less than its %d columns", name, ld, cols))
	}
	if !read || rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("kernels: Sgemm: %s has %d elements, a %dx%d matrix with stride %d needs %d",
			name, len(s), rows, cols, ld, need))
	}
}

// scaleMatrix sets C = beta*C, writing zeros without reading C when beta is 0.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// SgemmSerial is Sgemm on the calling goroutine alone, whatever
// SetThreads says: for callers that already run one GEMM per goroutine.
// The result is the same to the bit as Sgemm's.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(1, gemmArgs{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc})
}
