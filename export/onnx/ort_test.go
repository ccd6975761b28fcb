package onnx

// Runs exported models in ONNX Runtime (testdata/ort_check.js with the npm
// package onnxruntime-node) and compares them with kiln's outputs. Skipped
// unless KILN_ORT_DIR names the directory holding node_modules/onnxruntime-node
// (CI installs it there; see .ci/run).

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestONNXRuntime(t *testing.T) {
	dir := os.Getenv("KILN_ORT_DIR")
	if dir == "" {
		t.Skip("KILN_ORT_DIR not set: ONNX Runtime check not run (npm install --ignore-scripts onnxruntime-node in a directory, then point KILN_ORT_DIR at it)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("KILN_ORT_DIR is set but node is not on PATH: %v", err)
	}
	modules, err := filepath.Abs(filepath.Join(dir, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "NODE_PATH="+modules)
	probe := exec.Command(node, "-e", "require('onnxruntime-node')")
	probe.Env = env
	if out, err := probe.CombinedOutput(); err != nil {
		t.Fatalf("KILN_ORT_DIR=%s: cannot load onnxruntime-node: %v\n%s", dir, err, out)
	}
	cases := t.TempDir()
	writeCases(t, cases, 4)
	cmd := exec.Command(node, "testdata/ort_check.js", cases)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	t.Logf("ort_check.js output:\n%s", out)
	if err != nil {
		t.Fatalf("ort_check.js: %v", err)
	}
}
