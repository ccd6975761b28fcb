package cuda

import (
	"errors"
	"math"
	"os"
	"testing"

	"github.com/kiln-ml/kiln/internal/cuda/cudaemu"
)

// TestMain puts the CUDA emulator first on the library path when
// KILN_CUDA_EMULATOR=1 (before any test loads a library) and then expects
// a GPU, as -gpu does: a failure to open the emulated one is a failure.
func TestMain(m *testing.M) { os.Exit(cudaemu.Main(m, gpuFlag)) }

// TestEmuDeferredStreams: in the emulator's deferred mode a kernel queued
// on one stream without waiting for another stream's upload reads the
// memory as it was, and a host read of pinned memory before the stream is
// synchronised sees none of the download: the two mistakes the staging
// code could make show up as wrong numbers. With the wait and the
// synchronisation the numbers are right.
func TestEmuDeferredStreams(t *testing.T) {
	cudaemu.Need(t)
	t.Setenv(cudaemu.DeferredEnv, "1") // read by cuInit when the device opens
	d := openGPU(t)
	m := must(d.Kernels())
	scale := must(m.Function("scale_f32"))
	up, comp := must(d.NewStream()), must(d.NewStream())
	uploaded := must(d.NewEvent(false))
	const n = 1000
	h, back := must(d.NewHostBuffer(n)), must(d.NewHostBuffer(n))
	for i := range h.Data {
		h.Data[i] = float32(i + 1)
	}
	blk := must(d.Alloc(n, comp))
	okErr(t, comp.Zero(blk, n))
	okErr(t, comp.Synchronize())
	run := func(wait bool) []float32 {
		okErr(t, up.UploadAsync(blk, h, n))
		okErr(t, uploaded.Record(up))
		if wait {
			okErr(t, comp.Wait(uploaded))
		}
		okErr(t, comp.Launch(scale, Grid1D(n, 256), Dim3{256, 1, 1}, 0, blk, blk, float32(2), n))
		okErr(t, comp.DownloadAsync(back, blk, n))
		if !math.IsNaN(float64(back.Data[0])) {
			t.Errorf("pinned memory read before the stream ran holds %g, want the NaN it was allocated with", back.Data[0])
		}
		okErr(t, comp.Synchronize())
		got := append([]float32(nil), back.Data...)
		okErr(t, up.Synchronize())
		okErr(t, comp.Zero(blk, n))
		for i := range back.Data {
			back.Data[i] = float32(math.NaN())
		}
		okErr(t, comp.Synchronize())
		return got
	}
	if got := run(false); got[0] != 0 || got[n-1] != 0 {
		t.Errorf("without cuStreamWaitEvent the kernel saw the upload: %g ... %g", got[0], got[n-1])
	}
	got := run(true)
	for i, v := range got {
		if v != float32(2*(i+1)) {
			t.Fatalf("with cuStreamWaitEvent: [%d] = %g, want %d", i, v, 2*(i+1))
		}
	}
	for _, c := range []interface{ Destroy() error }{up, comp, uploaded} {
		okErr(t, c.Destroy())
	}
	okErr(t, h.Free())
	okErr(t, back.Free())
}

// emuFaults holds kernels that break CUDA's rules in ways a GPU hangs on or
// gives garbage for, and the emulator refuses.
const emuFaults = `
extern "C" __global__ void emu_divergent(float* x, int n) {
	float v = x[threadIdx.x];
	if (threadIdx.x < 16) __syncthreads();
	else v = __shfl_xor_sync(0xffffffff, v, 1);
	x[threadIdx.x] = v;
}
extern "C" __global__ void emu_shuffle(float* x, int n) {
	float v = x[threadIdx.x];
	for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffff, v, o);
	x[threadIdx.x] = v;
}
`

// TestEmuFaults: the emulator turns a barrier that threads of one warp
// reach by different paths, a full-mask shuffle in a partial warp, a
// kernel argument that is no device address and a copy past an
// allocation into errors, and computes a correct warp sum.
func TestEmuFaults(t *testing.T) {
	cudaemu.Need(t)
	launchErr := func(name string, block uint32, args ...any) error {
		d := openGPU(t) // a fresh context: a failed kernel poisons its context
		m := must(d.LoadSource(emuFaults))
		f := must(m.Function(name))
		x := upload(t, d, make([]float32, 64))
		err := (*Stream)(nil).Launch(f, Dim3{1, 1, 1}, Dim3{block, 1, 1}, 0, append([]any{x}, args...)...)
		if err == nil {
			err = d.Synchronize()
		}
		if err == nil {
			v := download(t, d, x, 64)
			if name == "emu_shuffle" && v[0] != 0 {
				t.Errorf("warp sum of zeros = %g", v[0])
			}
		}
		d.Close()
		return err
	}
	if err := launchErr("emu_shuffle", 64, 64); err != nil {
		t.Errorf("a correct warp sum failed: %v", err)
	}
	for _, c := range []struct {
		name  string
		block uint32
		code  int32
	}{{"emu_divergent", 32, 719}, {"emu_shuffle", 48, 719}} {
		err := launchErr(c.name, c.block, 64)
		if !errors.Is(err, &Error{API: Driver, Code: c.code}) {
			t.Errorf("%s with %d threads: err = %v, want code %d", c.name, c.block, err, c.code)
		} else {
			t.Logf("%s with %d threads: %v", c.name, c.block, err)
		}
	}
	d := openGPU(t)
	m := must(d.Kernels())
	add := must(m.Function("add_f32"))
	b := upload(t, d, make([]float32, 8))
	err := (*Stream)(nil).Launch(add, Dim3{1, 1, 1}, Dim3{32, 1, 1}, 0, b, DevicePtr(0x1000), b, 8)
	if !errors.Is(err, &Error{API: Driver, Code: 1}) {
		t.Errorf("a kernel argument that is no device address: err = %v, want CUDA_ERROR_INVALID_VALUE", err)
	}
	big := &Block{Ptr: b.Ptr, Size: 1 << 20}
	if err := d.Upload(big, make([]float32, 1<<18)); !errors.Is(err, &Error{API: Driver, Code: 1}) {
		t.Errorf("a copy past the allocation: err = %v, want CUDA_ERROR_INVALID_VALUE", err)
	}
}
