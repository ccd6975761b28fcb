//go:build cuda

package cuda

import (
	"errors"
	"flag"
	"os"
	"testing"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/backend/backendtest"
)

// -gpu says a GPU is expected: without one the tests fail instead of
// skipping, so a device check cannot pass by finding nothing.
// tf32Tol is the tolerance of comparisons under TF32 (see openGPU).
const tf32Tol = 1e-2

var gpuFlag = flag.Bool("gpu", false, "expect an NVIDIA GPU: fail, not skip, when there is none")

// openGPU opens the GPU, with TF32 when KILN_TF32=1, and returns the
// tolerance of comparisons relative to max(1, |reference|): 1e-4, or with
// TF32 1e-2, since TF32 rounds each product's inputs to 11 significant
// bits and a sum of K unit terms is then off by about 5e-4*sqrt(K), which
// the cases' sums take past 1e-3: the emulator's TF32 SGEMM (inputs
// rounded to nearest) gave worst errors between 2e-3 and 5e-3 on
// Compare's cases and 5.5e-3 on a golden conv2d weight gradient.
func openGPU(t *testing.T) (*Backend, float64) {
	t.Helper()
	return openGPUMode(t, os.Getenv("KILN_TF32") == "1")
}

func openGPUMode(t *testing.T, tf32 bool) (*Backend, float64) {
	t.Helper()
	b, err := Open(0, tf32)
	if err != nil {
		if *gpuFlag {
			t.Fatalf("-gpu given but no usable GPU: %v", err)
		}
		t.Skipf("no GPU: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	d := b.Device()
	t.Logf("%s (sm_%d%d), TF32 %v", d.Name, d.Major, d.Minor, tf32)
	if tf32 {
		return b, tf32Tol
	}
	return b, 1e-4
}

// TestGPUCompare runs every op on the GPU and on the CPU backend.
func TestGPUCompare(t *testing.T) {
	b, tol := openGPU(t)
	backendtest.Compare(t, b, tol, 2)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestGPUGradients checks the GPU's backward ops by finite differences,
// without TF32 whatever KILN_TF32 says: TF32 rounds x+eps and x-eps to 11
// significant bits, an error of up to |x|/2048 against a step of 1e-2,
// so the differences would measure the rounding, not the derivative.
func TestGPUGradients(t *testing.T) {
	b, _ := openGPUMode(t, false)
	backendtest.CheckGrads(t, b, 1)
}

// TestGPUGolden checks the GPU's ops against PyTorch's values in the
// golden files (1e-4; with TF32, rtol 1e-2 and atol 1e-2: PyTorch's
// values are float32, and cancelling sums under TF32 are off by the size
// of their terms over 2^11, not by a fraction of their own).
func TestGPUGolden(t *testing.T) {
	b, tol := openGPU(t)
	if tol == tf32Tol {
		backendtest.GoldenTol(t, b, tf32Tol, tf32Tol)
	} else {
		backendtest.Golden(t, b, tol)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestRegistered: importing the package makes "cuda" a backend name;
// without a GPU, opening it names what was not found.
func TestRegistered(t *testing.T) {
	found := false
	for _, n := range backend.Names() {
		found = found || n == "cuda"
	}
	if !found {
		t.Fatalf("backend names %v lack cuda", backend.Names())
	}
	b, err := backend.Open("cuda", backend.Options{})
	if err == nil {
		b.Close()
		return
	}
	var nb *backend.NotBuiltError
	if errors.As(err, &nb) || err.Error() == "" {
		t.Fatalf("Open(cuda) without a GPU: %v", err)
	}
	t.Logf("without a GPU: %v", err)
}
