//go:build cuda

package device_test

import (
	"flag"
	"os"
	"testing"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/backend/cuda"
)

// -gpu says a GPU is expected: without one the test fails instead of
// skipping.
var gpuFlag = flag.Bool("gpu", false, "expect an NVIDIA GPU: fail, not skip, when there is none")

// openGPU opens the GPU backend (TF32 with KILN_TF32=1) and returns it
// with the tolerance its comparisons take: 1e-4, or 1e-3 with TF32.
// Without a GPU it skips, or fails under -gpu.
func openGPU(t *testing.T) (backend.Backend, float64) {
	t.Helper()
	tf32 := os.Getenv("KILN_TF32") == "1"
	b, err := cuda.Open(0, tf32)
	if err != nil {
		if *gpuFlag {
			t.Fatalf("-gpu given but no usable GPU: %v", err)
		}
		t.Skipf("no GPU: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	if tf32 {
		return b, 1e-3
	}
	return b, 1e-4
}

// TestStepsMatchEngineCUDA is TestStepsMatchEngine on the GPU: 5 steps of
// every model and optimizer agree with the engine to 1e-4 (1e-3 with
// KILN_TF32=1).
func TestStepsMatchEngineCUDA(t *testing.T) {
	b, tol := openGPU(t)
	stepsMatch(t, func() backend.Backend { return b }, tol)
}

// TestPredictorMatchesEngineCUDA is TestPredictorMatchesEngine on the GPU
// (1e-4; 1e-3 with KILN_TF32=1).
func TestPredictorMatchesEngineCUDA(t *testing.T) {
	b, tol := openGPU(t)
	predictorMatches(t, func() backend.Backend { return b }, tol)
}

// TestOptimizersGoldenCUDA is TestOptimizersGolden on the GPU (1e-5: the
// update is elementwise, so TF32 does not touch it).
func TestOptimizersGoldenCUDA(t *testing.T) {
	b, _ := openGPU(t)
	optimizersGolden(t, b, 1e-5)
}
