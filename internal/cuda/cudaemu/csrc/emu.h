// kiln CUDA emulator: what the emulated libcuda exports to the emulated
// cuBLAS besides the driver API.
#pragma once
#include <cstddef>

#define KILN_EXPORT extern "C" __attribute__((visibility("default")))

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

// kiln_emu_op is work queued on a stream: run returns 0, or an error code
// with a message in err; fin frees arg (after run, or unrun at teardown).
struct kiln_emu_op {
	int (*run)(void* arg, char* err, int errLen);
	void (*fin)(void* arg);
	void* arg;
};

// kiln_emu_enqueue queues op on stream s (0: the legacy default stream)
// of the calling thread's context.
KILN_EXPORT CUresult kiln_emu_enqueue(void* s, kiln_emu_op op);
// kiln_emu_check_range reports whether [p, p+bytes) lies in one live
// device allocation; when not it prints what, and why, to stderr.
KILN_EXPORT int kiln_emu_check_range(CUdeviceptr p, unsigned long long bytes, const char* what);
// kiln_emu_has_context reports whether the calling thread has a current
// context; kiln_emu_valid_stream whether s names a live stream (or 0).
KILN_EXPORT int kiln_emu_has_context(void);
KILN_EXPORT int kiln_emu_valid_stream(void* s);
