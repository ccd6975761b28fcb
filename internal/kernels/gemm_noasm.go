//go:build !amd64 || purego

package kernels

// This file selects the portable micro-kernel where there is no assembly or
// the purego tag forbids it. It leaves out run-time CPU detection.

// activeKernel is the portable kernel.
var activeKernel = goKernel

// GemmKernelName reports which SGEMM micro-kernel this process uses; without
// assembly it is always "generic".
func GemmKernelName() string { return activeKernel.name }

// availableKernels lists the kernels this build runs.
func availableKernels() []*microKernel { return []*microKernel{goKernel} }

// peakLoop is a register-only FMA loop for BenchmarkFMAPeak.
type peakLoop struct {
	name         string
	fn           func(n int)
	flopsPerTrip int
}

// fmaPeakLoops is empty without assembly.
func fmaPeakLoops() []peakLoop { return nil }

// directConvAvailable is false without assembly: DirectConv does not run.
func directConvAvailable() bool { return false }

func directConv(x *float32, offs *int32, k int, w, y *float32, rows, xrow, yrow, ldy, nch int, m0, m1 uint16, bias *float32, epilogue uint8) {
	panic("kernels: DirectConv without assembly")
}

// hasDirectA is false without assembly: A is always packed.
func hasDirectA(*microKernel) bool { return false }

func directATile(x *float32, offs, segs *int32, nseg int, b *float32, ldb int, c *float32, ldc, rows int, m0, m1 uint16, beta float32, step int) {
	panic("kernels: directATile without assembly")
}
