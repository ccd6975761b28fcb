// kiln CUDA emulator: libcuda.so.1, the part of the CUDA driver API kiln
// binds (internal/cuda/driver_api.go), on the host.
//
// Device memory is host memory: each allocation is its own mapping, filled
// with 0xff bytes (NaN as float, -1 as int: cuMemAlloc does not zero) and
// ending at an inaccessible page, so a read past the end faults. A
// CUdeviceptr is the host address. Streams queue work; by default the work
// runs as it is queued, and with KILN_CUDA_EMULATOR_DEFERRED=1 it waits
// until the host synchronises with it (a stream or event synchronisation,
// a synchronous copy on the legacy stream, cuCtxSynchronize, a free), so
// that a missing cuStreamWaitEvent or a host read before a synchronisation
// gives a wrong result. Kernel modules are shared objects built by the
// emulated NVRTC; a launch runs the grid on the calling thread
// (kernel_rt.h, kernel_builtins.h). A context is current per thread, as in CUDA.
#include "driver.h"

using namespace emu;

struct ErrName {
	int code;
	const char* name;
	const char* msg;
};
static const ErrName errNames[] = {
    {OK, "CUDA_SUCCESS", "no error"},
    {INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

namespace emu {

std::recursive_mutex mu;
bool inited;
bool deferred;
Context ctx0;
thread_local Context* current;

double nowMS() {
	using namespace std::chrono;
	return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

struct Fn {
	std::function<int(char*, int)> f;
};

kiln_emu_op mkop(std::function<int(char*, int)> f) {
	return kiln_emu_op{[](void* a, char* e, int n) { return static_cast<Fn*>(a)->f(e, n); },
	                   [](void* a) { delete static_cast<Fn*>(a); }, new Fn{std::move(f)}};
}

void runUntil(Context* c, Stream* s, uint64_t seq);

void runOne(Context* c, Stream* s) {
	Entry e = s->q.front();
	s->q.pop_front();
	if (e.waitOn) {
		runUntil(c, e.waitOn, e.waitSeq);
	} else {
		char err[1024];
		err[0] = 0;
		if (c->sticky == OK) {
			int rc = e.op.run(e.op.arg, err, sizeof err);
			if (rc != OK) {
				fprintf(stderr, "kiln CUDA emulator: %s\n", err);
				c->sticky = rc;
			}
		}
		e.op.fin(e.op.arg);
	}
	s->done++;
}

void runUntil(Context* c, Stream* s, uint64_t seq) {
	while (s->done < seq && !s->q.empty()) runOne(c, s);
}

void drain(Context* c) {
	runUntil(c, &c->legacy, c->legacy.enq);
	for (Stream* s : c->streams) runUntil(c, s, s->enq);
}

void push(Stream* s, Entry e) {
	s->q.push_back(e);
	s->enq++;
}

// enqueue queues op on s with the legacy stream's implicit ordering
// against blocking streams, and runs it at once unless deferred.
CUresult enqueue(Context* c, Stream* s, kiln_emu_op op) {
	if (s->legacy) {
		for (Stream* b : c->streams)
			if (!(b->flags & 1) && b->enq > 0) push(s, Entry{{}, b, b->enq});
	} else if (!(s->flags & 1) && c->legacy.enq > 0) {
		push(s, Entry{{}, &c->legacy, c->legacy.enq});
	}
	push(s, Entry{op, nullptr, 0});
	if (!deferred) runUntil(c, s, s->enq);
	return c->sticky;
}

// ctx returns the calling thread's context or why there is none.
CUresult ctx(Context** c) {
	if (!inited) return NOT_INITIALIZED;
	if (!current || current->refs == 0) return INVALID_CONTEXT;
	*c = current;
	return OK;
}

CUresult stream(Context* c, CUstream h, Stream** s) {
	if (h == nullptr || h == (CUstream)1 || h == (CUstream)2) {
		*s = &c->legacy;
		return OK;
	}
	Stream* p = static_cast<Stream*>(h);
	if (!c->streams.count(p)) return INVALID_HANDLE;
	*s = p;
	return OK;
}

// find returns the allocation holding [p, p+n), or null.
const Alloc* find(Context* c, uintptr_t p, unsigned long long n, bool pinned) {
	auto it = c->allocs.upper_bound(p);
	if (it == c->allocs.begin()) return nullptr;
	--it;
	if (it->second.pinned != pinned) return nullptr;
	if (p - it->first > it->second.size || n > it->second.size - (p - it->first)) return nullptr;
	return &it->second;
}

CUresult checkDev(Context* c, CUdeviceptr p, unsigned long long n, const char* what) {
	if (find(c, p, n, false)) return OK;
	fprintf(stderr, "kiln CUDA emulator: %s: [%#llx, +%llu bytes) is not inside one device allocation\n", what, p, n);
	return INVALID_VALUE;
}

CUresult allocate(Context* c, void** out, size_t size, bool pinned) {
	if (size == 0) return INVALID_VALUE;
	if (!pinned && c->used + size > totalMem) return OUT_OF_MEMORY;
	size_t page = 4096, span = (size + page - 1) / page * page, tail = (size + 255) / 256 * 256;
	size_t len = span + page;
	void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) return OUT_OF_MEMORY;
	mprotect(static_cast<char*>(base) + span, page, PROT_NONE);
	char* p = static_cast<char*>(base) + span - tail;
	memset(p, 0xff, tail);
	c->allocs[uintptr_t(p)] = Alloc{size, pinned, base, len};
	if (!pinned) c->used += size;
	*out = p;
	return OK;
}

CUresult release(Context* c, uintptr_t p, bool pinned) {
	auto it = c->allocs.find(p);
	if (it == c->allocs.end() || it->second.pinned != pinned) return INVALID_VALUE;
	drain(c);
	if (!pinned) c->used -= it->second.size;
	munmap(it->second.base, it->second.mapLen);
	c->allocs.erase(it);
	return OK;
}

// copyOp copies n bytes at run time.
kiln_emu_op copyOp(void* dst, const void* src, size_t n) {
	return mkop([=](char*, int) {
		memcpy(dst, src, n);
		return OK;
	});
}

// snapshotOp copies n bytes of src taken now (pageable memory is staged
// when the copy is queued).
kiln_emu_op snapshotOp(void* dst, const void* src, size_t n) {
	auto buf = std::make_shared<std::vector<char>>(static_cast<const char*>(src), static_cast<const char*>(src) + n);
	return mkop([=](char*, int) {
		memcpy(dst, buf->data(), n);
		return OK;
	});
}

bool pinnedHost(Context* c, const void* p, size_t n) { return find(c, uintptr_t(p), n, true) != nullptr; }

}  // namespace emu

KILN_EXPORT CUresult cuInit(unsigned flags) {
	LOCK;
	if (flags != 0) return INVALID_VALUE;
	const char* d = getenv("KILN_CUDA_EMULATOR_DEFERRED");
	deferred = d && strcmp(d, "1") == 0;
	ctx0.legacy.legacy = true;
	inited = true;
	return OK;
}

KILN_EXPORT CUresult cuDriverGetVersion(int* v) {
	if (!v) return INVALID_VALUE;
	*v = 13000;
	return OK;
}

KILN_EXPORT CUresult cuGetErrorName(CUresult code, const char** s) {
	for (const ErrName& e : errNames)
		if (e.code == code) {
			*s = e.name;
			return OK;
		}
	*s = nullptr;
	return INVALID_VALUE;
}

KILN_EXPORT CUresult cuGetErrorString(CUresult code, const char** s) {
	for (const ErrName& e : errNames)
		if (e.code == code) {
			*s = e.msg;
			return OK;
		}
	*s = nullptr;
	return INVALID_VALUE;
}

KILN_EXPORT CUresult cuDeviceGetCount(int* n) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (!n) return INVALID_VALUE;
	*n = 1;
	return OK;
}

KILN_EXPORT CUresult cuDeviceGet(CUdevice* d, int ordinal) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (!d) return INVALID_VALUE;
	if (ordinal != 0) return INVALID_DEVICE;
	*d = 0;
	return OK;
}

KILN_EXPORT CUresult cuDeviceGetName(char* name, int n, CUdevice d) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (d != 0) return INVALID_DEVICE;
	if (!name || n <= 0) return INVALID_VALUE;
	snprintf(name, n, "%s", deviceName);
	return OK;
}

KILN_EXPORT CUresult cuDeviceGetAttribute(int* v, int attr, CUdevice d) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (d != 0) return INVALID_DEVICE;
	if (!v) return INVALID_VALUE;
	switch (attr) {
	case 1: *v = 1024; break;          // MAX_THREADS_PER_BLOCK
	case 2: case 3: *v = 1024; break;  // MAX_BLOCK_DIM_X, Y
	case 4: *v = 64; break;            // MAX_BLOCK_DIM_Z
	case 5: *v = 2147483647; break;    // MAX_GRID_DIM_X
	case 6: case 7: *v = 65535; break; // MAX_GRID_DIM_Y, Z
	case 8: *v = 48 << 10; break;      // MAX_SHARED_MEMORY_PER_BLOCK
	case 10: *v = 32; break;           // WARP_SIZE
	case 16: *v = smCount; break;      // MULTIPROCESSOR_COUNT
	case 75: *v = 9; break;            // COMPUTE_CAPABILITY_MAJOR
	case 76: *v = 0; break;            // COMPUTE_CAPABILITY_MINOR
	default: return INVALID_VALUE;
	}
	return OK;
}

KILN_EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (d != 0) return INVALID_DEVICE;
	*bytes = totalMem;
	return OK;
}

KILN_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* out, CUdevice d) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (d != 0) return INVALID_DEVICE;
	ctx0.refs++;
	*out = &ctx0;
	return OK;
}

// cuDevicePrimaryCtxRelease_v2 drops a reference; the last one destroys
// the context's state: its memory, streams, events and modules go, and a
// sticky error is forgotten. Streams, events, modules or pinned host
// memory still alive then were leaked by the program (device memory is
// not counted: a test may leave buffers to the context): they are named
// on stderr, and with KILN_CUDA_EMULATOR_STRICT=1 the call fails with
// CUDA_ERROR_UNKNOWN, so that a test's Close reports them.
KILN_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (d != 0) return INVALID_DEVICE;
	if (ctx0.refs == 0) return INVALID_CONTEXT;
	if (--ctx0.refs > 0) return OK;
	Context* c = &ctx0;
	drain(c);
	size_t pinned = 0;
	for (auto& a : c->allocs) pinned += a.second.pinned;
	CUresult rc = OK;
	if (!c->streams.empty() || !c->events.empty() || !c->modules.empty() || pinned) {
		fprintf(stderr, "kiln CUDA emulator: the context was released with %zu streams, %zu events, %zu modules and %zu pinned buffers not destroyed\n",
		        c->streams.size(), c->events.size(), c->modules.size(), pinned);
		const char* strict = getenv("KILN_CUDA_EMULATOR_STRICT");
		if (strict && strcmp(strict, "1") == 0) rc = UNKNOWN;
	}
	for (auto& a : c->allocs) munmap(a.second.base, a.second.mapLen);
	c->allocs.clear();
	c->used = 0;
	for (Event* e : c->events) delete e;
	c->events.clear();
	c->streams.clear();
	for (Module* m : c->modules) {
		for (auto& f : m->fns) delete f.second;
		dlclose(m->h);
		delete m;
	}
	c->modules.clear();
	c->functions.clear();
	c->sticky = OK;
	return rc;
}

KILN_EXPORT CUresult cuCtxSetCurrent(CUcontext c) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (c != nullptr && c != &ctx0) return INVALID_CONTEXT;
	current = static_cast<Context*>(c);
	return OK;
}

KILN_EXPORT CUresult cuCtxSynchronize() {
	LOCK;
	CTX;
	drain(c);
	return c->sticky;
}
