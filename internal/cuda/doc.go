// Package cuda reaches NVIDIA GPUs from pure Go: it finds and loads the CUDA
// driver (libcuda.so.1), cuBLAS and NVRTC at run time with purego, with no
// cgo and nothing from the CUDA toolkit needed at build time.
//
// It holds:
//   - the library search (search.go), a pure function of candidate
//     directories and a stat function, and the loader (load.go) that dlopens
//     what the search finds and resolves every symbol kiln calls;
//   - the error mapping (errors.go, errtable.go): every CUresult,
//     cublasStatus_t and nvrtcResult code turned into a Go error that names
//     the call, the code's name and its meaning;
//   - the executor (executor.go): one goroutine locked to one OS thread owns
//     the CUDA context and runs every driver call in order;
//   - the device wrapper (device.go, stream.go): memory, copies, streams,
//     events and kernel launches;
//   - a caching device allocator (alloc.go) in the manner of PyTorch's:
//     size-class bins, reuse without a driver call, release on pressure;
//   - NVRTC compilation of the kernel sources in kernelsrc, cached per
//     (source hash, compute capability) (module.go), and cuBLAS SGEMM
//     (cublas.go).
//
// It leaves out the engine's backend seam (which ops run where, tensors that
// live on the device): that belongs to the packages that use this one.
// Without a GPU every entry point returns an error naming what was not found;
// nothing here panics for a missing library.
package cuda
