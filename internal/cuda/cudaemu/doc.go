// Package cudaemu is a host emulator of the three CUDA libraries kiln
// loads at run time (libcuda.so.1, libcublas.so.13 with libcublasLt.so.13,
// libnvrtc.so.13), for tests: with KILN_CUDA_EMULATOR=1 a test process
// builds them with g++ (Setup, from TestMain) and puts their directory
// first on LD_LIBRARY_PATH, so that internal/cuda's loader, symbol
// binding, executor, allocator, NVRTC path, module loading and argument
// packing, cuBLAS's calling conventions, every kernel of kernelsrc and the
// backend's launch geometry and staging all run on a machine without a
// GPU.
//
// The libraries are C++ (csrc/): device memory is host memory, NVRTC
// compiles a unit with the host compiler behind a prelude of the CUDA
// built-ins (kernel_rt.h: a block's threads are fibers, so __syncthreads
// and the warp shuffles are real barriers), a launch runs the grid on the
// calling thread, cuBLAS's SGEMM is a column-major loop with TF32
// rounding in the TF32 math mode. Streams run their work as it is queued,
// or, with KILN_CUDA_EMULATOR_DEFERRED=1, only when the host synchronises
// with them, so that a missing stream or event dependency shows as a wrong
// result. Each library checks what the hardware or the real library
// would refuse (launch geometry, leading dimensions, copies and kernel
// pointers outside an allocation, calls from a thread without the context).
//
// The libraries and the compiled kernel units are cached under the
// temporary directory (kiln-cudaemu-<uid>/<hash of the sources and g++'s
// version>), shared by the test processes of a run. Two more variables
// steer the emulated NVRTC: KILN_CUDA_EMULATOR_FMA=0 stops it contracting
// multiply-adds (NVRTC's --fmad=true does), KILN_CUDA_EMULATOR_CXX names
// another compiler than g++.
//
// It leaves out what a host cannot show: timing, the memory model beyond
// the deferred mode's ordering, the real NVRTC and PTX, and cuBLAS's own
// summation order. It imports nothing of kiln, so any test may use it.
package cudaemu
