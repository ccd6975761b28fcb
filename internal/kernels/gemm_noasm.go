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
