package cuda

import "unsafe"

// DevicePtr is a CUdeviceptr: an address in device memory.
type DevicePtr uint64

// driverAPI is the part of the CUDA driver API kiln calls, bound by
// LoadDriver. Every function returns a CUresult; the _v2 names are the ones
// cuda.h maps the plain names to since CUDA 3.2/4.0.
type driverAPI struct {
	cuInit                    func(flags uint32) int32
	cuDriverGetVersion        func(v *int32) int32
	cuGetErrorName            func(code int32, s **byte) int32
	cuGetErrorString          func(code int32, s **byte) int32
	cuDeviceGetCount          func(n *int32) int32
	cuDeviceGet               func(dev *int32, ordinal int32) int32
	cuDeviceGetName           func(name *byte, n int32, dev int32) int32
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) int32
	cuDeviceTotalMem          func(bytes *uint64, dev int32) int32
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) int32
	cuDevicePrimaryCtxRelease func(dev int32) int32
	cuCtxSetCurrent           func(ctx uintptr) int32
	cuCtxSynchronize          func() int32
	cuMemGetInfo              func(free, total *uint64) int32
	cuMemAlloc                func(p *DevicePtr, bytes uint64) int32
	cuMemFree                 func(p DevicePtr) int32
	cuMemAllocHost            func(p *unsafe.Pointer, bytes uint64) int32
	cuMemFreeHost             func(p unsafe.Pointer) int32
	cuMemcpyHtoD              func(dst DevicePtr, src unsafe.Pointer, bytes uint64) int32
	cuMemcpyDtoH              func(dst unsafe.Pointer, src DevicePtr, bytes uint64) int32
	cuMemcpyDtoD              func(dst, src DevicePtr, bytes uint64) int32
	cuMemcpyHtoDAsync         func(dst DevicePtr, src unsafe.Pointer, bytes uint64, s uintptr) int32
	cuMemcpyDtoHAsync         func(dst unsafe.Pointer, src DevicePtr, bytes uint64, s uintptr) int32
	cuMemcpyDtoDAsync         func(dst, src DevicePtr, bytes uint64, s uintptr) int32
	cuMemsetD32Async          func(dst DevicePtr, v uint32, n uint64, s uintptr) int32
	cuStreamCreate            func(s *uintptr, flags uint32) int32
	cuStreamDestroy           func(s uintptr) int32
	cuStreamSynchronize       func(s uintptr) int32
	cuStreamWaitEvent         func(s, e uintptr, flags uint32) int32
	cuEventCreate             func(e *uintptr, flags uint32) int32
	cuEventDestroy            func(e uintptr) int32
	cuEventRecord             func(e, s uintptr) int32
	cuEventSynchronize        func(e uintptr) int32
	cuEventQuery              func(e uintptr) int32
	cuEventElapsedTime        func(ms *float32, start, end uintptr) int32
	cuModuleLoadData          func(m *uintptr, image unsafe.Pointer) int32
	cuModuleUnload            func(m uintptr) int32
	cuModuleGetFunction       func(f *uintptr, m uintptr, name *byte) int32
	cuLaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, shared uint32, s uintptr, params, extra unsafe.Pointer) int32
}

func (a *driverAPI) symbols() []symbol {
	return []symbol{
		{"cuInit", &a.cuInit},
		{"cuDriverGetVersion", &a.cuDriverGetVersion},
		{"cuGetErrorName", &a.cuGetErrorName},
		{"cuGetErrorString", &a.cuGetErrorString},
		{"cuDeviceGetCount", &a.cuDeviceGetCount},
		{"cuDeviceGet", &a.cuDeviceGet},
		{"cuDeviceGetName", &a.cuDeviceGetName},
		{"cuDeviceGetAttribute", &a.cuDeviceGetAttribute},
		{"cuDeviceTotalMem_v2", &a.cuDeviceTotalMem},
		{"cuDevicePrimaryCtxRetain", &a.cuDevicePrimaryCtxRetain},
		{"cuDevicePrimaryCtxRelease_v2", &a.cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", &a.cuCtxSetCurrent},
		{"cuCtxSynchronize", &a.cuCtxSynchronize},
		{"cuMemGetInfo_v2", &a.cuMemGetInfo},
		{"cuMemAlloc_v2", &a.cuMemAlloc},
		{"cuMemFree_v2", &a.cuMemFree},
		{"cuMemAllocHost_v2", &a.cuMemAllocHost},
		{"cuMemFreeHost", &a.cuMemFreeHost},
		{"cuMemcpyHtoD_v2", &a.cuMemcpyHtoD},
		{"cuMemcpyDtoH_v2", &a.cuMemcpyDtoH},
		{"cuMemcpyDtoD_v2", &a.cuMemcpyDtoD},
		{"cuMemcpyHtoDAsync_v2", &a.cuMemcpyHtoDAsync},
		{"cuMemcpyDtoHAsync_v2", &a.cuMemcpyDtoHAsync},
		{"cuMemcpyDtoDAsync_v2", &a.cuMemcpyDtoDAsync},
		{"cuMemsetD32Async", &a.cuMemsetD32Async},
		{"cuStreamCreate", &a.cuStreamCreate},
		{"cuStreamDestroy_v2", &a.cuStreamDestroy},
		{"cuStreamSynchronize", &a.cuStreamSynchronize},
		{"cuStreamWaitEvent", &a.cuStreamWaitEvent},
		{"cuEventCreate", &a.cuEventCreate},
		{"cuEventDestroy_v2", &a.cuEventDestroy},
		{"cuEventRecord", &a.cuEventRecord},
		{"cuEventSynchronize", &a.cuEventSynchronize},
		{"cuEventQuery", &a.cuEventQuery},
		{"cuEventElapsedTime", &a.cuEventElapsedTime},
		{"cuModuleLoadData", &a.cuModuleLoadData},
		{"cuModuleUnload", &a.cuModuleUnload},
		{"cuModuleGetFunction", &a.cuModuleGetFunction},
		{"cuLaunchKernel", &a.cuLaunchKernel},
	}
}

// nvrtcAPI is NVRTC's compile API, bound by loadNVRTC.
type nvrtcAPI struct {
	nvrtcVersion           func(major, minor *int32) int32
	nvrtcCreateProgram     func(p *uintptr, src, name *byte, nHeaders int32, headers, includeNames unsafe.Pointer) int32
	nvrtcDestroyProgram    func(p *uintptr) int32
	nvrtcCompileProgram    func(p uintptr, nOpts int32, opts unsafe.Pointer) int32
	nvrtcGetProgramLogSize func(p uintptr, n *uint64) int32
	nvrtcGetProgramLog     func(p uintptr, log *byte) int32
	nvrtcGetPTXSize        func(p uintptr, n *uint64) int32
	nvrtcGetPTX            func(p uintptr, ptx *byte) int32
	nvrtcGetCUBINSize      func(p uintptr, n *uint64) int32
	nvrtcGetCUBIN          func(p uintptr, cubin *byte) int32
}

func (a *nvrtcAPI) symbols() []symbol {
	return []symbol{
		{"nvrtcVersion", &a.nvrtcVersion},
		{"nvrtcCreateProgram", &a.nvrtcCreateProgram},
		{"nvrtcDestroyProgram", &a.nvrtcDestroyProgram},
		{"nvrtcCompileProgram", &a.nvrtcCompileProgram},
		{"nvrtcGetProgramLogSize", &a.nvrtcGetProgramLogSize},
		{"nvrtcGetProgramLog", &a.nvrtcGetProgramLog},
		{"nvrtcGetPTXSize", &a.nvrtcGetPTXSize},
		{"nvrtcGetPTX", &a.nvrtcGetPTX},
		{"nvrtcGetCUBINSize", &a.nvrtcGetCUBINSize},
		{"nvrtcGetCUBIN", &a.nvrtcGetCUBIN},
	}
}

// cublasAPI is the part of cuBLAS kiln calls, bound by loadCublas.
type cublasAPI struct {
	cublasCreate      func(h *uintptr) int32
	cublasDestroy     func(h uintptr) int32
	cublasSetStream   func(h, s uintptr) int32
	cublasSetMathMode func(h uintptr, mode int32) int32
	cublasSgemm       func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a DevicePtr, lda int32, b DevicePtr, ldb int32, beta *float32, c DevicePtr, ldc int32) int32
}

func (a *cublasAPI) symbols() []symbol {
	return []symbol{
		{"cublasCreate_v2", &a.cublasCreate},
		{"cublasDestroy_v2", &a.cublasDestroy},
		{"cublasSetStream_v2", &a.cublasSetStream},
		{"cublasSetMathMode", &a.cublasSetMathMode},
		{"cublasSgemm_v2", &a.cublasSgemm},
	}
}
