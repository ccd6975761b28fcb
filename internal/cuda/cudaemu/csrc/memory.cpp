// kiln CUDA emulator: libcuda's memory calls: allocation, pinned host
// memory, copies (synchronous ones on the legacy stream) and memset.
#include "driver.h"

using namespace emu;

KILN_EXPORT CUresult cuMemGetInfo_v2(size_t* free, size_t* total) {
	LOCK;
	CTX;
	*free = totalMem - c->used;
	*total = totalMem;
	return OK;
}

KILN_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	if (!p) return INVALID_VALUE;
	void* q;
	if (CUresult r = allocate(c, &q, bytes, false)) return r;
	*p = CUdeviceptr(uintptr_t(q));
	return OK;
}

KILN_EXPORT CUresult cuMemFree_v2(CUdeviceptr p) {
	LOCK;
	CTX;
	if (p == 0) return OK;
	return release(c, uintptr_t(p), false);
}

KILN_EXPORT CUresult cuMemAllocHost_v2(void** p, size_t bytes) {
	LOCK;
	CTX;
	if (!p) return INVALID_VALUE;
	return allocate(c, p, bytes, true);
}

KILN_EXPORT CUresult cuMemFreeHost(void* p) {
	LOCK;
	CTX;
	return release(c, uintptr_t(p), true);
}

// cuMemcpyHtoD_v2 is a copy on the legacy stream: from pageable memory it
// returns once the source is staged, from pinned memory once it is done.
KILN_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	if (CUresult r = checkDev(c, dst, n, "cuMemcpyHtoD destination")) return r;
	bool pinned = pinnedHost(c, src, n);
	enqueue(c, &c->legacy, pinned ? copyOp((void*)uintptr_t(dst), src, n) : snapshotOp((void*)uintptr_t(dst), src, n));
	if (pinned) runUntil(c, &c->legacy, c->legacy.enq);
	return c->sticky;
}

// cuMemcpyDtoH_v2 is a copy on the legacy stream that returns once done.
KILN_EXPORT CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	if (CUresult r = checkDev(c, src, n, "cuMemcpyDtoH source")) return r;
	enqueue(c, &c->legacy, copyOp(dst, (const void*)uintptr_t(src), n));
	runUntil(c, &c->legacy, c->legacy.enq);
	return c->sticky;
}

KILN_EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	if (CUresult r = checkDev(c, dst, n, "cuMemcpyDtoD destination")) return r;
	if (CUresult r = checkDev(c, src, n, "cuMemcpyDtoD source")) return r;
	return enqueue(c, &c->legacy, copyOp((void*)uintptr_t(dst), (const void*)uintptr_t(src), n));
}

// cuMemcpyHtoDAsync_v2 reads pinned memory when the copy runs, pageable
// memory when it is queued.
KILN_EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream h) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	Stream* s;
	if (CUresult r = stream(c, h, &s)) return r;
	if (CUresult r = checkDev(c, dst, n, "cuMemcpyHtoDAsync destination")) return r;
	void* d = (void*)uintptr_t(dst);
	return enqueue(c, s, pinnedHost(c, src, n) ? copyOp(d, src, n) : snapshotOp(d, src, n));
}

// cuMemcpyDtoHAsync_v2 writes pinned memory when the copy runs; into
// pageable memory it returns once done.
KILN_EXPORT CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream h) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	Stream* s;
	if (CUresult r = stream(c, h, &s)) return r;
	if (CUresult r = checkDev(c, src, n, "cuMemcpyDtoHAsync source")) return r;
	enqueue(c, s, copyOp(dst, (const void*)uintptr_t(src), n));
	if (!pinnedHost(c, dst, n)) runUntil(c, s, s->enq);
	return c->sticky;
}

KILN_EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream h) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	Stream* s;
	if (CUresult r = stream(c, h, &s)) return r;
	if (CUresult r = checkDev(c, dst, n, "cuMemcpyDtoDAsync destination")) return r;
	if (CUresult r = checkDev(c, src, n, "cuMemcpyDtoDAsync source")) return r;
	return enqueue(c, s, copyOp((void*)uintptr_t(dst), (const void*)uintptr_t(src), n));
}

KILN_EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned v, size_t n, CUstream h) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	Stream* s;
	if (CUresult r = stream(c, h, &s)) return r;
	if (dst % 4) return INVALID_VALUE;
	if (CUresult r = checkDev(c, dst, n * 4, "cuMemsetD32Async destination")) return r;
	unsigned* p = (unsigned*)uintptr_t(dst);
	return enqueue(c, s, mkop([=](char*, int) {
		                  for (size_t i = 0; i < n; i++) p[i] = v;
		                  return OK;
	                  }));
}
