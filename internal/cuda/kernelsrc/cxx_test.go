package kernelsrc

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cxxShim declares, for a host C++ compiler, what NVRTC provides: the
// qualifiers, the thread indices and the device intrinsics the kernels
// call. It is enough for a syntax and type check, nothing runs.
const cxxShim = `#include <cmath>
#define __global__
#define __shared__ static
struct kilnDim3 { unsigned x, y, z; };
static kilnDim3 blockIdx, blockDim, threadIdx, gridDim;
static void __syncthreads() {}
static float __int_as_float(int) { return 0; }
static float __shfl_xor_sync(unsigned, float v, int) { return v; }
static float atomicAdd(float* a, float v) { float o = *a; *a += v; return o; }
static int min(int a, int b) { return a < b ? a : b; }
static int max(int a, int b) { return a > b ? a : b; }
`

// TestUnitParsesAsCXX type-checks the whole compilation unit with the
// host's C++ compiler (g++ -fsyntax-only over a shim of NVRTC's
// built-ins), so that a kernel with a syntax or type error fails here,
// not on the first GPU. It skips where there is no g++.
func TestUnitParsesAsCXX(t *testing.T) {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ on this machine")
	}
	dir := t.TempDir()
	shim, unit := filepath.Join(dir, "shim.h"), filepath.Join(dir, "unit.cu")
	if err := os.WriteFile(shim, []byte(cxxShim), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(unit, []byte(Unit()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(gxx, "-fsyntax-only", "-Werror", "-Wall", "-Wno-sign-compare", "-Wno-unused-function",
		"-x", "c++", "-include", shim, unit).CombinedOutput()
	if err != nil {
		t.Fatalf("g++ rejects the unit: %v\n%s", err, out)
	}
}
