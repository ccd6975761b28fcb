//go:build cuda

package device_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/kiln-ml/kiln/internal/cuda/cudaemu"
)

// TestMain puts the CUDA emulator first on the library path when
// KILN_CUDA_EMULATOR=1 and then expects a GPU, as -gpu does.
func TestMain(m *testing.M) {
	flag.Parse()
	on, err := cudaemu.Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if on {
		*gpuFlag = true
	}
	os.Exit(m.Run())
}
