//go:build cuda

package device_test

import (
	"os"
	"testing"

	"github.com/kiln-ml/kiln/internal/cuda/cudaemu"
)

// TestMain puts the CUDA emulator first on the library path when
// KILN_CUDA_EMULATOR=1 and then expects a GPU, as -gpu does.
func TestMain(m *testing.M) { os.Exit(cudaemu.Main(m, gpuFlag)) }
