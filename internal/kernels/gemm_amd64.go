//go:build amd64 && !purego

package kernels

// This file picks the amd64 assembly micro-kernel at start-up. It leaves out
// AVX-512 variants beyond AVX512F: the kernels need nothing else.

import "golang.org/x/sys/cpu"

// avx512Kernel is the 8x32 zmm tile: 16 accumulators hide the 4-cycle FMA
// latency on two pipes, each k step is 16 FMAs against 10 loads, and 8 rows
// divide the usual channel counts so M=32 or 64 wastes no padded rows. With
// kc=256 the 32 KiB B micro-panel stays in L1 (48 KiB on Zen 5) and the
// 128x256 A block (128 KiB) in L2.
var avx512Kernel = &microKernel{name: "avx512", mr: 8, nr: 32, fn: sgemmKernelAVX512, mc: 128, kc: 256, nc: 2048, directBMaxM: 256}

// avx2Kernel is the classic 6x16 ymm tile: 12 accumulators, 2 B vectors and
// 2 broadcast registers fill all 16 ymm registers.
var avx2Kernel = &microKernel{name: "avx2", mr: 6, nr: 16, fn: sgemmKernelAVX2, mc: 144, kc: 256, nc: 2048, directBMaxM: 256}

var (
	hasAVX512 = cpu.X86.HasAVX512F
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// activeKernel is the fastest kernel this CPU runs.
var activeKernel = pickKernel()

func pickKernel() *microKernel {
	switch {
	case hasAVX512:
		return avx512Kernel
	case hasAVX2:
		return avx2Kernel
	}
	return goKernel
}

// GemmKernelName reports which SGEMM micro-kernel this process uses:
// "avx512", "avx2" or "generic".
func GemmKernelName() string { return activeKernel.name }

// availableKernels lists the kernels this CPU runs, fastest first.
func availableKernels() []*microKernel {
	var ks []*microKernel
	if hasAVX512 {
		ks = append(ks, avx512Kernel)
	}
	if hasAVX2 {
		ks = append(ks, avx2Kernel)
	}
	return append(ks, goKernel)
}

// peakLoop is a register-only FMA loop for BenchmarkFMAPeak.
type peakLoop struct {
	name         string
	fn           func(n int)
	flopsPerTrip int
}

// fmaPeakLoops lists the peak loops this CPU runs.
func fmaPeakLoops() []peakLoop {
	var ps []peakLoop
	if hasAVX512 {
		ps = append(ps, peakLoop{"avx512", fmaPeakAVX512, 24 * 16 * 2})
	}
	if hasAVX2 {
		ps = append(ps, peakLoop{"avx2", fmaPeakAVX2, 24 * 8 * 2})
	}
	return ps
}

func init() {
	if hasAVX2 {
		transpose8x8 = transpose8x8AVX
	}
}

// directConvAvailable reports whether DirectConv runs: with the AVX-512
// GEMM kernel, whose FMA chains it matches.
func directConvAvailable() bool { return activeKernel == avx512Kernel }

func directConv(x *float32, offs *int32, k int, w, y *float32, rows, xrow, yrow, ldy, nch int, m0, m1 uint16, bias *float32, epilogue uint8) {
	directConvAVX512(x, offs, k, w, y, rows, xrow, yrow, ldy, nch, m0, m1, bias, epilogue)
}

// hasDirectA reports whether kernel kn has a twin that reads a column
// matrix A straight from the images (directATile): the AVX-512 kernel.
func hasDirectA(kn *microKernel) bool { return kn == avx512Kernel }

// directATile is the AVX-512 kernel's twin with A read from the images,
// step elements apart along a run of columns (1 or 2).
func directATile(x *float32, offs, segs *int32, nseg int, b *float32, ldb int, c *float32, ldc, rows int, m0, m1 uint16, beta float32, step int) {
	if step == 2 {
		sgemmDirectAStride2AVX512(x, offs, segs, nseg, b, ldb, c, ldc, rows, m0, m1, beta)
		return
	}
	sgemmDirectAAVX512(x, offs, segs, nseg, b, ldb, c, ldc, rows, m0, m1, beta)
}
