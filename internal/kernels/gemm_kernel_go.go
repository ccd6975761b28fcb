package kernels

// This file is the portable micro-kernel, used on CPUs without AVX2+FMA, on
// other architectures and under the purego build tag. It leaves out SIMD:
// a 2x4 tile of scalar accumulators is the largest the Go compiler keeps in
// amd64's 15 usable float registers (a 4x4 tile spilled and ran 1.4x slower).

import "unsafe"

// goKernel drives the portable 2x4 micro-kernel.
var goKernel = &microKernel{name: "generic", mr: 2, nr: 4, fn: sgemmKernelGo, mc: 128, kc: 256, nc: 2048, directBMaxM: 32}

// sgemmKernelGo is the kernelFunc for a 2x4 tile in pure Go.
func sgemmKernelGo(k int, ap, bp, cp *float32, ldb, ldc int, alpha, beta float32) {
	a := unsafe.Slice(ap, 2*k)
	b := unsafe.Slice(bp, (k-1)*ldb+4)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	for p := 0; p < k; p++ {
		av := a[2*p : 2*p+2 : 2*p+2]
		bv := b[p*ldb : p*ldb+4 : p*ldb+4]
		a0, a1 := av[0], av[1]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	c := unsafe.Slice(cp, ldc+4)
	storeRow4(c[0:4:4], alpha, beta, c00, c01, c02, c03)
	storeRow4(c[ldc:ldc+4:ldc+4], alpha, beta, c10, c11, c12, c13)
}

// storeRow4 writes alpha*acc + beta*c into one 4-wide row of the tile.
func storeRow4(c []float32, alpha, beta, x0, x1, x2, x3 float32) {
	x0, x1, x2, x3 = alpha*x0, alpha*x1, alpha*x2, alpha*x3
	if beta != 0 {
		x0 += beta * c[0]
		x1 += beta * c[1]
		x2 += beta * c[2]
		x3 += beta * c[3]
	}
	c[0], c[1], c[2], c[3] = x0, x1, x2, x3
}
