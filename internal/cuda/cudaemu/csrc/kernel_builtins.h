// kiln CUDA emulator: the second half of the prelude (after kernel_rt.h):
// CUDA C's barriers, warp shuffles, atomics, intrinsics and integer
// min/max, over kernel_rt.h's fibers.
// The barriers and the warp operations.
static inline void __syncthreads() { kiln_emu::wait(kiln_emu::WAIT_BLOCK); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) {
	kiln_emu::fibers[kiln_emu::cur].mask = mask;
	kiln_emu::wait(kiln_emu::WAIT_WARP);
}

namespace kiln_emu {
// shfl exchanges v across the warp: every lane publishes its value, waits
// for the warp, then reads lane src's (its own when src is out of range).
template <typename T>
static T shfl(unsigned mask, T v, int src, bool keep) {
	static_assert(sizeof(T) == 4, "the emulator's shuffles take 4-byte values");
	int lane = cur % 32, w = cur / 32;
	if (!(mask >> lane & 1)) fail("warp operation with mask %#x, which does not name the calling lane %d", mask, lane);
	int par = xpar[w];
	std::memcpy(&xbuf[w][par][lane], &v, 4);
	fibers[cur].mask = mask;
	wait(WAIT_WARP);
	if (keep) return v;
	T out;
	std::memcpy(&out, &xbuf[w][par][src], 4);
	return out;
}
}  // namespace kiln_emu

template <typename T>
static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
	int lane = kiln_emu::cur % 32;
	return kiln_emu::shfl(mask, v, (lane / width) * width + ((src % width) + width) % width, false);
}
template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T v, int lm, int width = 32) {
	int lane = kiln_emu::cur % 32, src = lane ^ lm;
	return kiln_emu::shfl(mask, v, src, src / width != lane / width || src > 31);
}
template <typename T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = 32) {
	int lane = kiln_emu::cur % 32, src = lane + int(d);
	return kiln_emu::shfl(mask, v, src, src / width != lane / width || src > 31);
}
template <typename T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = 32) {
	int lane = kiln_emu::cur % 32, src = lane - int(d);
	return kiln_emu::shfl(mask, v, src, src < 0 || src / width != lane / width);
}

// Atomics: blocks and threads never run at once, so a plain update is
// atomic.
static inline float atomicAdd(float* a, float v) {
	float o = *a;
	*a = o + v;
	return o;
}
static inline int atomicAdd(int* a, int v) {
	int o = *a;
	*a = o + v;
	return o;
}
static inline unsigned atomicAdd(unsigned* a, unsigned v) {
	unsigned o = *a;
	*a = o + v;
	return o;
}
static inline int atomicMax(int* a, int v) {
	int o = *a;
	if (v > o) *a = v;
	return o;
}
static inline int atomicMin(int* a, int v) {
	int o = *a;
	if (v < o) *a = v;
	return o;
}
static inline int atomicExch(int* a, int v) {
	int o = *a;
	*a = v;
	return o;
}
static inline int atomicCAS(int* a, int cmp, int v) {
	int o = *a;
	if (o == cmp) *a = v;
	return o;
}
static inline void __threadfence() {}
static inline void __threadfence_block() {}

// The intrinsics and the integer min/max CUDA C has at global scope.
static inline float __int_as_float(int v) {
	float f;
	std::memcpy(&f, &v, 4);
	return f;
}
static inline int __float_as_int(float v) {
	int i;
	std::memcpy(&i, &v, 4);
	return i;
}
static inline float __uint_as_float(unsigned v) {
	float f;
	std::memcpy(&f, &v, 4);
	return f;
}
static inline unsigned __float_as_uint(float v) {
	unsigned i;
	std::memcpy(&i, &v, 4);
	return i;
}
// glibc declares __expf, __logf and __powf itself: CUDA's fast forms are
// the plain functions here.
#define __expf(x) expf(x)
#define __logf(x) logf(x)
#define __powf(x, y) powf(x, y)
static inline float __fdividef(float x, float y) { return x / y; }
static inline float rsqrtf(float x) { return 1.f / sqrtf(x); }
static inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
template <typename T>
static inline T __ldg(const T* p) {
	return *p;
}
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
