package onnx

// Runs ONNX's own checker and an ONNX evaluator (testdata/check.py, with
// Debian's python3-onnx) on exported models. Skipped where python3 with onnx
// is missing; tests never need Python otherwise.

import (
	"os"
	"os/exec"
	"testing"
)

// python returns a python3 that can import onnx, or "" when there is none.
func python() string {
	for _, p := range []string{os.Getenv("KILN_PYTHON"), "/usr/bin/python3", "python3"} {
		if p == "" {
			continue
		}
		if exec.Command(p, "-c", "import onnx, numpy").Run() == nil {
			return p
		}
	}
	return ""
}

func TestONNXChecker(t *testing.T) {
	py := python()
	if py == "" {
		t.Skip("no python3 with the onnx module (Debian: apt-get install python3-onnx, or set KILN_PYTHON); ONNX checker not run")
	}
	dir := t.TempDir()
	writeCases(t, dir, 4)
	out, err := exec.Command(py, "testdata/check.py", dir).CombinedOutput()
	t.Logf("check.py output:\n%s", out)
	if err != nil {
		t.Fatalf("check.py: %v", err)
	}
}
