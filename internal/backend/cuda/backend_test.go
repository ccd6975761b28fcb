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
var gpuFlag = flag.Bool("gpu", false, "expect an NVIDIA GPU: fail, not skip, when there is none")

func openGPU(t *testing.T) (*Backend, float64) {
	t.Helper()
	tf32 := os.Getenv("KILN_TF32") == "1"
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
		return b, 1e-3
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

// TestGPUGradients checks the GPU's backward ops by finite differences.
func TestGPUGradients(t *testing.T) {
	b, _ := openGPU(t)
	backendtest.CheckGrads(t, b, 1)
}

// TestGPUGolden checks the GPU's ops against PyTorch's values in the
// golden files (1e-4; 1e-3 with TF32).
func TestGPUGolden(t *testing.T) {
	b, tol := openGPU(t)
	backendtest.Golden(t, b, tol)
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
