package cuda

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorText(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{"cuMemAlloc", Driver, 2}, "cuda: cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"},
		{&Error{"cuLaunchKernel", Driver, 700}, "cuda: cuLaunchKernel: CUDA_ERROR_ILLEGAL_ADDRESS (700): an illegal memory access was encountered"},
		{&Error{"cuInit", Driver, 34}, "cuda: cuInit: CUDA_ERROR_STUB_LIBRARY (34): CUDA driver is a stub library"},
		{&Error{"cublasSgemm_v2", Cublas, 7}, "cuda: cublasSgemm_v2: CUBLAS_STATUS_INVALID_VALUE (7): an invalid numeric value was used as an argument"},
		{&Error{"nvrtcCompileProgram", NVRTC, 6}, "cuda: nvrtcCompileProgram: NVRTC_ERROR_COMPILATION (6): compilation failed (see the program log)"},
		{&Error{"cuFuture", Driver, 1234}, "cuda: cuFuture: CUresult(1234) (1234): code not in kiln's table (a newer CUDA?)"},
		{&Error{"cublasX", Cublas, 2}, "cuda: cublasX: cublasStatus_t(2) (2): code not in kiln's table (a newer CUDA?)"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// TestTablesWellFormed checks every entry: names carry their library's
// prefix and are unique, every message is non-empty, and the anchors from
// the headers sit at their documented values.
func TestTablesWellFormed(t *testing.T) {
	for _, tab := range []struct {
		api     API
		m       map[int32]codeInfo
		prefix  string
		min     int
		anchors map[int32]string
	}{
		{Driver, cuResults, "CUDA_", 100, map[int32]string{0: "CUDA_SUCCESS", 1: "CUDA_ERROR_INVALID_VALUE", 100: "CUDA_ERROR_NO_DEVICE",
			209: "CUDA_ERROR_NO_BINARY_FOR_GPU", 218: "CUDA_ERROR_INVALID_PTX", 600: "CUDA_ERROR_NOT_READY", 719: "CUDA_ERROR_LAUNCH_FAILED",
			999: "CUDA_ERROR_UNKNOWN"}},
		{Cublas, cublasStatuses, "CUBLAS_STATUS_", 10, map[int32]string{3: "CUBLAS_STATUS_ALLOC_FAILED", 13: "CUBLAS_STATUS_EXECUTION_FAILED", 15: "CUBLAS_STATUS_NOT_SUPPORTED"}},
		{NVRTC, nvrtcResults, "NVRTC_", 18, map[int32]string{5: "NVRTC_ERROR_INVALID_OPTION", 6: "NVRTC_ERROR_COMPILATION", 11: "NVRTC_ERROR_INTERNAL_ERROR"}},
	} {
		if len(tab.m) < tab.min {
			t.Errorf("%v: %d codes, want at least %d", tab.api, len(tab.m), tab.min)
		}
		seen := map[string]int32{}
		for code, c := range tab.m {
			if !strings.HasPrefix(c.name, tab.prefix) || c.msg == "" {
				t.Errorf("%v %d: %+v", tab.api, code, c)
			}
			if other, dup := seen[c.name]; dup {
				t.Errorf("%v: %s is both %d and %d", tab.api, c.name, other, code)
			}
			seen[c.name] = code
			if (code == 0) != strings.HasSuffix(c.name, "SUCCESS") {
				t.Errorf("%v %d: %s: only code 0 is success", tab.api, code, c.name)
			}
		}
		for code, name := range tab.anchors {
			if got, _ := CodeName(tab.api, code); got != name {
				t.Errorf("%v %d = %s, want %s", tab.api, code, got, name)
			}
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("alloc 4 GiB: %w", cuCheck("cuMemAlloc_v2", 2))
	if !errors.Is(err, ErrOutOfMemory) {
		t.Errorf("%v is not ErrOutOfMemory", err)
	}
	if errors.Is(err, ErrNotReady) {
		t.Errorf("%v matched ErrNotReady", err)
	}
	// The same number from another library is another error.
	if errors.Is(nvrtcCheck("nvrtcCompileProgram", 2), &Error{API: Driver, Code: 2}) {
		t.Error("NVRTC code 2 matched CUresult 2")
	}
	if cuCheck("cuInit", 0) != nil || cublasCheck("cublasCreate", 0) != nil {
		t.Error("code 0 must be nil")
	}
}
