// kiln CUDA emulator: the middle of the prelude of every unit the fake
// NVRTC compiles (after kernel_abi.h, before kernel_builtins.h): the
// qualifiers and thread indices NVRTC provides to CUDA C, for a host C++
// compiler, the fibers the barriers of kernel_builtins.h park, and the
// launcher that runs a grid on the host.
//
// A block's threads are fibers (ucontext) on the launching thread: each
// runs until it finishes or reaches a barrier (__syncthreads, or a warp
// operation for its warp), and a barrier releases when every thread of the
// block (of the warp) that has not returned has reached it. Blocks run one
// after another. A kernel that uses no barrier runs its threads as plain
// calls, without fibers. Launches are serialised by the driver, so the
// indices and __shared__ arrays are plain statics of this unit.
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>
#include <sys/mman.h>
#include <ucontext.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __shared__ static
#define __constant__ static
#define __launch_bounds__(...)

struct uint3 {
	unsigned x, y, z;
};
struct dim3 {
	unsigned x = 1, y = 1, z = 1;
};
static uint3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;
static const int warpSize = 32;

namespace kiln_emu {

enum State { RUN, WAIT_BLOCK, WAIT_WARP, DONE };

// Context switches: on x86-64 a few instructions that keep the
// callee-saved registers and the FP control words on the fiber's stack
// (ucontext's swapcontext makes a system call for the signal mask at every
// switch, which dominated the emulated reductions); elsewhere ucontext.
#if defined(__x86_64__)
extern "C" void kiln_emu_swap(void** save, void* to);
asm(R"(
	.text
	.hidden kiln_emu_swap
	.globl kiln_emu_swap
	.type kiln_emu_swap, @function
kiln_emu_swap:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size kiln_emu_swap, .-kiln_emu_swap
)");
struct Ctx {
	void* sp;
};
#else
struct Ctx {
	ucontext_t uc;
};
#endif

struct Fiber {
	Ctx ctx;
	State state;
	unsigned mask;  // the warp operation's member mask
	char* stack;
};

const size_t stackSize = 256 << 10;
const int maxThreads = 1024;

static Ctx sched;
static Fiber fibers[maxThreads];
static int cur;            // the running thread's linear index in its block
static bool fiberMode;     // threads are fibers (the kernel has barriers)
static bool failed;        // the launch failed; err says why
static char err[1024];
static const char* kname;  // the kernel being run
static void (*body)(void*);
static void* bodyArg;
static uint32_t xbuf[maxThreads / 32][2][32];  // warp exchange, double-buffered
static unsigned char xpar[maxThreads / 32];    // each warp's current buffer

static void fail(const char* fmt, ...) {
	if (failed) return;
	failed = true;
	int n = snprintf(err, sizeof err, "kernel %s, block (%u,%u,%u), thread (%u,%u,%u): ", kname, blockIdx.x,
	                 blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, sizeof err - n, fmt, ap);
	va_end(ap);
}

static void setThread(int t) {
	cur = t;
	threadIdx.x = t % blockDim.x;
	threadIdx.y = (t / blockDim.x) % blockDim.y;
	threadIdx.z = t / (blockDim.x * blockDim.y);
}

#if defined(__x86_64__)
static void toSched(int me) { kiln_emu_swap(&fibers[me].ctx.sp, sched.sp); }
static void toFiber(int t) { kiln_emu_swap(&sched.sp, fibers[t].ctx.sp); }
[[noreturn]] static void entry() {
	body(bodyArg);
	fibers[cur].state = DONE;
	kiln_emu_swap(&fibers[cur].ctx.sp, sched.sp);
	__builtin_trap();  // a finished fiber is never resumed
}
// start prepares fiber t to run entry on its stack: the frame
// kiln_emu_swap pops (the control words, six registers) and entry as the
// return address, with the stack aligned as at a call.
static void start(int t) {
	uintptr_t top = (uintptr_t(fibers[t].stack) + stackSize) & ~uintptr_t(15);
	void** sp = reinterpret_cast<void**>(top);
	*--sp = nullptr;                          // entry's return address: none
	*--sp = reinterpret_cast<void*>(&entry);  // kiln_emu_swap's ret
	for (int i = 0; i < 6; i++) *--sp = nullptr;
	uint32_t cw[2] = {__builtin_ia32_stmxcsr(), 0};
	uint16_t fcw;
	asm volatile("fnstcw %0" : "=m"(fcw));
	cw[1] = fcw;
	*--sp = nullptr;
	std::memcpy(sp, cw, 8);
	fibers[t].ctx.sp = sp;
}
#else
static void toSched(int me) { swapcontext(&fibers[me].ctx.uc, &sched.uc); }
static void toFiber(int t) { swapcontext(&sched.uc, &fibers[t].ctx.uc); }
static void entry() {
	body(bodyArg);
	fibers[cur].state = DONE;  // uc_link returns to the scheduler
}
static void start(int t) {
	Fiber& f = fibers[t];
	getcontext(&f.ctx.uc);
	f.ctx.uc.uc_stack.ss_sp = f.stack;
	f.ctx.uc.uc_stack.ss_size = stackSize;
	f.ctx.uc.uc_link = &sched.uc;
	makecontext(&f.ctx.uc, entry, 0);
}
#endif

// wait parks the running fiber at a barrier until the scheduler releases
// it; a failed launch never resumes it.
static void wait(State s) {
	if (!fiberMode) {
		fail("%s in a kernel the emulator classified as barrier-free", s == WAIT_BLOCK ? "__syncthreads" : "a warp operation");
		return;
	}
	fibers[cur].state = s;
	int me = cur;
	toSched(me);
	setThread(me);
}

static bool stacks() {
	for (int t = 0; t < maxThreads; t++) {
		if (fibers[t].stack) continue;
		void* p = mmap(nullptr, stackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) return false;
		mprotect(p, 4096, PROT_NONE);  // a guard page: an overflow faults
		fibers[t].stack = static_cast<char*>(p);
	}
	return true;
}

// releaseWarps frees each warp whose live lanes all wait at a warp
// operation, checking that no mask names a lane that has returned or does
// not exist. It reports whether any warp was released.
static bool releaseWarps(int n) {
	bool released = false;
	for (int w = 0; w * 32 < n; w++) {
		int lo = w * 32, hi = lo + 32 < n ? lo + 32 : n;
		bool any = false, all = true;
		for (int t = lo; t < hi; t++) {
			if (fibers[t].state == WAIT_WARP) any = true;
			else if (fibers[t].state != DONE) all = false;
		}
		if (!any || !all) continue;
		for (int t = lo; t < hi; t++) {
			if (fibers[t].state != WAIT_WARP) continue;
			for (int l = 0; l < 32; l++) {
				if (!(fibers[t].mask >> l & 1)) continue;
				if (lo + l >= n || fibers[lo + l].state != WAIT_WARP) {
					setThread(t);
					fail("warp operation with mask %#x names lane %d, which %s", fibers[t].mask, l,
					     lo + l >= n ? "does not exist (the block is not a whole number of warps)" : "has returned");
					return false;
				}
			}
		}
		for (int t = lo; t < hi; t++)
			if (fibers[t].state == WAIT_WARP) fibers[t].state = RUN;
		xpar[w] ^= 1;
		released = true;
	}
	return released;
}

static void runBlock(int n) {
	if (!fiberMode) {
		for (int t = 0; t < n && !failed; t++) {
			setThread(t);
			body(bodyArg);
		}
		return;
	}
	for (int t = 0; t < n; t++) {
		start(t);
		fibers[t].state = RUN;
	}
	for (int w = 0; w < maxThreads / 32; w++) xpar[w] = 0;
	for (;;) {
		for (int t = 0; t < n; t++) {
			if (fibers[t].state != RUN) continue;
			setThread(t);
			toFiber(t);
			if (failed) return;
		}
		int done = 0, atBlock = 0;
		for (int t = 0; t < n; t++) {
			done += fibers[t].state == DONE;
			atBlock += fibers[t].state == WAIT_BLOCK;
		}
		if (done == n) return;
		if (releaseWarps(n)) continue;
		if (failed) return;
		if (atBlock + done == n) {
			for (int t = 0; t < n; t++)
				if (fibers[t].state == WAIT_BLOCK) fibers[t].state = RUN;
			continue;
		}
		for (int t = 0; t < n; t++) {
			if (fibers[t].state == WAIT_WARP) {
				setThread(t);
				fail("deadlock: this thread waits at a warp operation while others of its warp wait at __syncthreads");
				return;
			}
		}
		fail("deadlock: no thread can go on");
		return;
	}
}

// runGrid runs every block of the grid; it returns 0, or 1 with err set.
static int runGrid(void (*fn)(void*), void* arg, const unsigned* g, const unsigned* b, int useFibers, const char* name,
                   char* out, int outLen) {
	failed = false;
	err[0] = 0;
	kname = name;
	body = fn;
	bodyArg = arg;
	fiberMode = useFibers != 0;
	gridDim.x = g[0], gridDim.y = g[1], gridDim.z = g[2];
	blockDim.x = b[0], blockDim.y = b[1], blockDim.z = b[2];
	int n = b[0] * b[1] * b[2];
	if (n > maxThreads) {
		snprintf(out, outLen, "kernel %s: block of %d threads", name, n);
		return 1;
	}
	if (fiberMode && !stacks()) {
		snprintf(out, outLen, "kernel %s: no memory for the fibers' stacks", name);
		return 1;
	}
	for (unsigned z = 0; z < g[2] && !failed; z++)
		for (unsigned y = 0; y < g[1] && !failed; y++)
			for (unsigned x = 0; x < g[0] && !failed; x++) {
				blockIdx.x = x, blockIdx.y = y, blockIdx.z = z;
				runBlock(n);
			}
	if (failed) {
		snprintf(out, outLen, "%s", err);
		return 1;
	}
	return 0;
}

template <typename T>
struct Sig;
template <typename... A>
struct Sig<void (*)(A...)> {
	using Tuple = std::tuple<std::decay_t<A>...>;
	static constexpr int n = sizeof...(A);
	static constexpr unsigned sizes[sizeof...(A) + 1] = {unsigned(sizeof(std::decay_t<A>))..., 0};
};

// Launcher unpacks cuLaunchKernel's void** params by the kernel's own
// parameter types and runs the grid.
template <auto F>
struct Launcher {
	using S = Sig<decltype(F)>;
	using Tuple = typename S::Tuple;
	template <size_t... I>
	static Tuple unpack(void** a, std::index_sequence<I...>) {
		return Tuple{*static_cast<std::tuple_element_t<I, Tuple>*>(a[I])...};
	}
	static void run(void* p) { std::apply(F, *static_cast<Tuple*>(p)); }
	static int launch(void** args, const unsigned* g, const unsigned* b, int useFibers, const char* name, char* out,
	                  int outLen) {
		Tuple t = unpack(args, std::make_index_sequence<S::n>{});
		return runGrid(&run, &t, g, b, useFibers, name, out, outLen);
	}
};

}  // namespace kiln_emu

#define KILN_EMU_KERNEL(NAME, FIBERS)                                                                        \
	extern "C" __attribute__((visibility("default"))) const kiln_emu_kernel kiln_emu_k_##NAME = {              \
	    1, #NAME, kiln_emu::Launcher<&NAME>::S::n, kiln_emu::Launcher<&NAME>::S::sizes, FIBERS,               \
	    &kiln_emu::Launcher<&NAME>::launch};
