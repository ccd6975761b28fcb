// kiln CUDA emulator: what a compiled kernel unit and the emulated driver
// share across dlopen, the descriptor each kernel exports. driver.h
// includes it; the emulated NVRTC puts it first in the prelude of every
// unit it compiles, before kernel_rt.h.
#ifndef KILN_EMU_KERNEL_ABI_H
#define KILN_EMU_KERNEL_ABI_H

// kiln_emu_kernel describes one kernel to the emulated driver: the driver
// copies nparams arguments of sizes[i] bytes at launch and calls launch.
struct kiln_emu_kernel {
	int abi;
	const char* name;
	int nparams;
	const unsigned* sizes;
	int fibers;
	int (*launch)(void** args, const unsigned* grid, const unsigned* block, int fibers, const char* name, char* err,
	              int errLen);
};

#endif
