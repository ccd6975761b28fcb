// Package kernelsrc holds kiln's GPU kernels as CUDA C source in Go
// strings, and assembles them into the one compilation unit that NVRTC
// compiles at first use (package cuda does the compiling and the caching).
//
// Each kernel is an extern "C" __global__ function, so its name in the
// compiled module is its name here, with its parameters listed in Kernel so
// that a launch can be checked against them. The kernels mirror the CPU
// kernels in internal/kernels: same operation order, same NaN and tie
// rules, so the two backends agree to rounding.
//
// It leaves out GEMM (cuBLAS does it) and anything that needs the CUDA
// toolkit at build time: nothing here is compiled by the Go build.
package kernelsrc
