// kiln CUDA emulator: the emulated driver's state (contexts, streams and
// their queues, events, allocations, modules), shared by driver.cpp (the
// queues, memory, device and context calls), memory.cpp (allocation and
// copies) and streams.cpp (streams, events, modules and launches).
#pragma once
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
#include "kernel_abi.h"

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

// The emulated device.
static const char deviceName[] = "kiln CUDA emulator";
static const unsigned long long totalMem = 8ull << 30;
static const int smCount = 4;


namespace emu {

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

extern std::recursive_mutex mu;  // held by every call: launches and queues are serialised
extern bool inited;
extern bool deferred;
extern Context ctx0;                  // the one device's primary context
extern thread_local Context* current; // the calling thread's current context

double nowMS();
kiln_emu_op mkop(std::function<int(char*, int)> f);
void runOne(Context* c, Stream* s);
void runUntil(Context* c, Stream* s, uint64_t seq);
void drain(Context* c);
void push(Stream* s, Entry e);
CUresult enqueue(Context* c, Stream* s, kiln_emu_op op);
CUresult ctx(Context** c);
CUresult stream(Context* c, CUstream h, Stream** s);
const Alloc* find(Context* c, uintptr_t p, unsigned long long n, bool pinned);
CUresult checkDev(Context* c, CUdeviceptr p, unsigned long long n, const char* what);
CUresult allocate(Context* c, void** out, size_t size, bool pinned);
CUresult release(Context* c, uintptr_t p, bool pinned);
kiln_emu_op copyOp(void* dst, const void* src, size_t n);
kiln_emu_op snapshotOp(void* dst, const void* src, size_t n);
bool pinnedHost(Context* c, const void* p, size_t n);

}  // namespace emu

#define LOCK std::lock_guard<std::recursive_mutex> lock(mu)
#define CTX      \
	Context* c;  \
	if (CUresult r = ctx(&c)) return r
