// kiln CUDA emulator: libcuda's streams, events, modules and kernel
// launches, and the entry points the emulated cuBLAS uses.
#include "driver.h"

using namespace emu;

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
