package cudaemu

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBuild builds the libraries and checks each exports what kiln binds
// (a sample of each library's symbols, read with nm).
func TestBuild(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++ on this machine")
	}
	if testing.Short() && !Enabled() {
		t.Skip("builds four libraries; skipped in -short mode")
	}
	dir, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	nm, err := exec.LookPath("nm")
	if err != nil {
		t.Skip("no nm to read the exports")
	}
	for lib, syms := range map[string][]string{
		"libcuda.so.1":    {"cuInit", "cuMemAlloc_v2", "cuLaunchKernel", "cuStreamWaitEvent", "kiln_emu_enqueue"},
		"libcublas.so.13": {"cublasCreate_v2", "cublasSgemm_v2", "cublasSetMathMode"},
		"libnvrtc.so.13":  {"nvrtcCompileProgram", "nvrtcGetCUBIN", "nvrtcGetProgramLog"},
	} {
		out, err := exec.Command(nm, "-D", "--defined-only", filepath.Join(dir, lib)).Output()
		if err != nil {
			t.Fatalf("nm %s: %v", lib, err)
		}
		for _, s := range syms {
			if !containsWord(string(out), s) {
				t.Errorf("%s does not export %s", lib, s)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "libcublasLt.so.13")); err != nil {
		t.Error(err)
	}
}

func containsWord(text, w string) bool {
	for i := 0; i+len(w) <= len(text); i++ {
		if text[i:i+len(w)] == w && (i+len(w) == len(text) || text[i+len(w)] == '\n') && (i == 0 || text[i-1] == ' ') {
			return true
		}
	}
	return false
}
