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
// (kernel_rt.h). A context is current per thread, as in CUDA.
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "emu.h"

typedef int CUdevice;
typedef void* CUcontext;
typedef void* CUstream;
typedef void* CUevent;
typedef void* CUmodule;
typedef void* CUfunction;

enum {
	OK = 0,
	INVALID_VALUE = 1,
	OUT_OF_MEMORY = 2,
	NOT_INITIALIZED = 3,
	NO_DEVICE = 100,
	INVALID_DEVICE = 101,
	INVALID_IMAGE = 200,
	INVALID_CONTEXT = 201,
	INVALID_HANDLE = 400,
	NOT_FOUND = 500,
	NOT_READY = 600,
	ILLEGAL_ADDRESS = 700,
	LAUNCH_OUT_OF_RESOURCES = 701,
	LAUNCH_FAILED = 719,
	NOT_SUPPORTED = 801,
	UNKNOWN = 999,
};

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

// The emulated device.
static const char deviceName[] = "kiln CUDA emulator";
static const unsigned long long totalMem = 8ull << 30;
static const int smCount = 4;

struct kiln_emu_kernel {
	int abi;
	const char* name;
	int nparams;
	const unsigned* sizes;
	int fibers;
	int (*launch)(void** args, const unsigned* grid, const unsigned* block, int fibers, const char* name, char* err,
	              int errLen);
};

namespace {

struct Stream;

// Entry is one queued item: work, or a wait for another stream to reach
// a point.
struct Entry {
	kiln_emu_op op;
	Stream* waitOn;
	uint64_t waitSeq;
};

struct Stream {
	unsigned flags = 0;  // CU_STREAM_NON_BLOCKING = 1
	bool legacy = false;
	std::deque<Entry> q;
	uint64_t enq = 0, done = 0;  // entries queued and run, ever
};

// Stamp is what one cuEventRecord leaves: when the stream reached it.
struct Stamp {
	bool reached = false;
	double ms = 0;
};

struct Event {
	unsigned flags = 0;  // CU_EVENT_DISABLE_TIMING = 2
	Stream* s = nullptr;
	uint64_t seq = 0;
	std::shared_ptr<Stamp> stamp;
	int queries = 0;
};

struct Alloc {
	size_t size;
	bool pinned;
	void* base;
	size_t mapLen;
};

struct Module;
struct Function {
	Module* m;
	const kiln_emu_kernel* k;
};
struct Module {
	void* h;
	std::map<std::string, Function*> fns;
};

struct Context {
	int refs = 0;
	CUresult sticky = OK;
	Stream legacy;
	std::set<Stream*> streams;  // live streams (streams are never freed: waits may point at them)
	std::set<Event*> events;
	std::set<Module*> modules;
	std::set<Function*> functions;
	std::map<uintptr_t, Alloc> allocs;  // by address
	unsigned long long used = 0;
};

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

}  // namespace

#define LOCK std::lock_guard<std::recursive_mutex> lock(mu)
#define CTX      \
	Context* c;  \
	if (CUresult r = ctx(&c)) return r

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
// sticky error is forgotten.
KILN_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
	LOCK;
	if (!inited) return NOT_INITIALIZED;
	if (d != 0) return INVALID_DEVICE;
	if (ctx0.refs == 0) return INVALID_CONTEXT;
	if (--ctx0.refs > 0) return OK;
	Context* c = &ctx0;
	drain(c);
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
	return OK;
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

KILN_EXPORT CUresult cuStreamCreate(CUstream* out, unsigned flags) {
	LOCK;
	CTX;
	if (!out || flags > 1) return INVALID_VALUE;
	Stream* s = new Stream;
	s->flags = flags;
	c->streams.insert(s);
	*out = s;
	return OK;
}

KILN_EXPORT CUresult cuStreamDestroy_v2(CUstream h) {
	LOCK;
	CTX;
	Stream* s;
	if (h == nullptr || stream(c, h, &s)) return INVALID_HANDLE;
	runUntil(c, s, s->enq);
	c->streams.erase(s);
	return OK;
}

KILN_EXPORT CUresult cuStreamSynchronize(CUstream h) {
	LOCK;
	CTX;
	Stream* s;
	if (CUresult r = stream(c, h, &s)) return r;
	runUntil(c, s, s->enq);
	return c->sticky;
}

KILN_EXPORT CUresult cuStreamWaitEvent(CUstream h, CUevent ev, unsigned flags) {
	LOCK;
	CTX;
	Stream* s;
	if (CUresult r = stream(c, h, &s)) return r;
	Event* e = static_cast<Event*>(ev);
	if (!c->events.count(e)) return INVALID_HANDLE;
	if (flags != 0) return INVALID_VALUE;
	if (e->s) {
		push(s, Entry{{}, e->s, e->seq});
		if (!deferred) runUntil(c, s, s->enq);
	}
	return c->sticky;
}

KILN_EXPORT CUresult cuEventCreate(CUevent* out, unsigned flags) {
	LOCK;
	CTX;
	if (!out || (flags & ~7u)) return INVALID_VALUE;
	Event* e = new Event;
	e->flags = flags;
	c->events.insert(e);
	*out = e;
	return OK;
}

KILN_EXPORT CUresult cuEventDestroy_v2(CUevent ev) {
	LOCK;
	CTX;
	Event* e = static_cast<Event*>(ev);
	if (!c->events.count(e)) return INVALID_HANDLE;
	c->events.erase(e);
	delete e;
	return OK;
}

KILN_EXPORT CUresult cuEventRecord(CUevent ev, CUstream h) {
	LOCK;
	CTX;
	Event* e = static_cast<Event*>(ev);
	if (!c->events.count(e)) return INVALID_HANDLE;
	Stream* s;
	if (CUresult r = stream(c, h, &s)) return r;
	auto st = std::make_shared<Stamp>();
	e->stamp = st;
	e->queries = 0;
	enqueue(c, s, mkop([st](char*, int) {
		        st->reached = true;
		        st->ms = nowMS();
		        return OK;
	        }));
	e->s = s;
	e->seq = s->enq;
	return c->sticky;
}

KILN_EXPORT CUresult cuEventSynchronize(CUevent ev) {
	LOCK;
	CTX;
	Event* e = static_cast<Event*>(ev);
	if (!c->events.count(e)) return INVALID_HANDLE;
	if (e->s) runUntil(c, e->s, e->seq);
	return c->sticky;
}

// cuEventQuery answers CUDA_ERROR_NOT_READY while the record has not run;
// in deferred mode each query lets the recording stream run one entry, so
// that a polling loop ends.
KILN_EXPORT CUresult cuEventQuery(CUevent ev) {
	LOCK;
	CTX;
	Event* e = static_cast<Event*>(ev);
	if (!c->events.count(e)) return INVALID_HANDLE;
	if (c->sticky) return c->sticky;
	if (!e->s || e->s->done >= e->seq) return OK;
	runOne(c, e->s);
	return NOT_READY;
}

KILN_EXPORT CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
	LOCK;
	CTX;
	Event *a = static_cast<Event*>(start), *b = static_cast<Event*>(end);
	if (!c->events.count(a) || !c->events.count(b)) return INVALID_HANDLE;
	if ((a->flags & 2) || (b->flags & 2) || !a->stamp || !b->stamp) return INVALID_HANDLE;
	if (!a->stamp->reached || !b->stamp->reached) return NOT_READY;
	*ms = float(b->stamp->ms - a->stamp->ms);
	return OK;
}

// cuModuleLoadData takes the image the emulated NVRTC returns:
// "KILNEMU1:" and the path of the unit's shared object.
KILN_EXPORT CUresult cuModuleLoadData(CUmodule* out, const void* image) {
	LOCK;
	CTX;
	const char* img = static_cast<const char*>(image);
	if (!img || strncmp(img, "KILNEMU1:", 9) != 0) {
		fprintf(stderr, "kiln CUDA emulator: cuModuleLoadData: not an image of the emulated NVRTC\n");
		return INVALID_IMAGE;
	}
	void* h = dlopen(img + 9, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "kiln CUDA emulator: cuModuleLoadData: %s\n", dlerror());
		return INVALID_IMAGE;
	}
	Module* m = new Module{h, {}};
	c->modules.insert(m);
	*out = m;
	return OK;
}

KILN_EXPORT CUresult cuModuleUnload(CUmodule hm) {
	LOCK;
	CTX;
	Module* m = static_cast<Module*>(hm);
	if (!c->modules.count(m)) return INVALID_HANDLE;
	drain(c);
	for (auto& f : m->fns) {
		c->functions.erase(f.second);
		delete f.second;
	}
	dlclose(m->h);
	c->modules.erase(m);
	delete m;
	return OK;
}

KILN_EXPORT CUresult cuModuleGetFunction(CUfunction* out, CUmodule hm, const char* name) {
	LOCK;
	CTX;
	Module* m = static_cast<Module*>(hm);
	if (!c->modules.count(m)) return INVALID_HANDLE;
	if (!out || !name) return INVALID_VALUE;
	auto it = m->fns.find(name);
	if (it != m->fns.end()) {
		*out = it->second;
		return OK;
	}
	auto k = static_cast<const kiln_emu_kernel*>(dlsym(m->h, (std::string("kiln_emu_k_") + name).c_str()));
	if (!k || k->abi != 1) return NOT_FOUND;
	Function* f = new Function{m, k};
	m->fns[name] = f;
	c->functions.insert(f);
	*out = f;
	return OK;
}

// cuLaunchKernel checks the launch as the hardware would refuse it, copies
// the arguments (as CUDA does when the call is made) and queues the grid.
// An 8-byte argument must be 0 or an address in (or one past) a device
// allocation: kiln's kernels take no other 8-byte values, so anything else
// is a mispacked argument or a host pointer.
KILN_EXPORT CUresult cuLaunchKernel(CUfunction hf, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                    unsigned bz, unsigned shared, CUstream h, void** params, void** extra) {
	LOCK;
	CTX;
	if (c->sticky) return c->sticky;
	Function* f = static_cast<Function*>(hf);
	if (!c->functions.count(f)) return INVALID_HANDLE;
	Stream* s;
	if (CUresult r = stream(c, h, &s)) return r;
	const kiln_emu_kernel* k = f->k;
	auto refuse = [&](CUresult r, const char* why) {
		fprintf(stderr, "kiln CUDA emulator: cuLaunchKernel(%s): %s\n", k->name, why);
		return r;
	};
	if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return refuse(INVALID_VALUE, "a zero dimension");
	if (gx > 2147483647u || gy > 65535 || gz > 65535) return refuse(INVALID_VALUE, "grid too large");
	if (bx > 1024 || by > 1024 || bz > 64 || (unsigned long long)bx * by * bz > 1024)
		return refuse(INVALID_VALUE, "block of more than 1024 threads");
	if (shared > (48u << 10)) return refuse(INVALID_VALUE, "more than 48 KiB of dynamic shared memory");
	if (extra) return refuse(INVALID_VALUE, "the extra argument is not emulated");
	if (k->nparams > 0 && !params) return refuse(INVALID_VALUE, "no parameters for a kernel that takes some");
	auto buf = std::make_shared<std::vector<uint64_t>>(k->nparams + 1);
	for (int i = 0; i < k->nparams; i++) {
		if (!params[i]) return refuse(INVALID_VALUE, "a null parameter pointer");
		memcpy(&(*buf)[i], params[i], k->sizes[i]);
		if (k->sizes[i] == 8) {
			uintptr_t p = (*buf)[i];
			if (p != 0 && !find(c, p, 0, false)) {
				fprintf(stderr, "kiln CUDA emulator: cuLaunchKernel(%s): argument %d (%#llx) is not a device address\n",
				        k->name, i, (unsigned long long)p);
				return INVALID_VALUE;
			}
		}
	}
	unsigned g[3] = {gx, gy, gz}, b[3] = {bx, by, bz};
	return enqueue(c, s, mkop([=](char* err, int n) {
		               std::vector<void*> ptrs(k->nparams + 1);
		               for (int i = 0; i < k->nparams; i++) ptrs[i] = &(*buf)[i];
		               return k->launch(ptrs.data(), g, b, k->fibers, k->name, err, n) ? LAUNCH_FAILED : OK;
	               }));
}

// The emulator's own entry points, for the emulated cuBLAS.

KILN_EXPORT CUresult kiln_emu_enqueue(void* h, kiln_emu_op op) {
	LOCK;
	Context* c;
	if (CUresult r = ctx(&c)) {
		op.fin(op.arg);
		return r;
	}
	Stream* s;
	if (CUresult r = stream(c, h, &s)) {
		op.fin(op.arg);
		return r;
	}
	return enqueue(c, s, op);
}

KILN_EXPORT int kiln_emu_check_range(CUdeviceptr p, unsigned long long bytes, const char* what) {
	LOCK;
	Context* c;
	if (ctx(&c)) return 0;
	return checkDev(c, p, bytes, what) == OK;
}

KILN_EXPORT int kiln_emu_has_context(void) {
	LOCK;
	Context* c;
	return ctx(&c) == OK;
}

KILN_EXPORT int kiln_emu_valid_stream(void* h) {
	LOCK;
	Context* c;
	Stream* s;
	return ctx(&c) == OK && stream(c, h, &s) == OK;
}
