package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportInt8 quantises a tiny run and exports the int8 model: the
// file is RUN/model.int8.onnx by default, holds the QDQ operators and
// int8 weights, and the float export stays RUN/model.onnx.
func TestExportInt8(t *testing.T) {
	data, _ := tinyData(t)
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "train", "--data", data, "--image-size", "16", "--channels", "1", "--epochs", "1",
		"--batch-size", "16", "--workers", "2", "--out", out, "--name", "q")
	if code != 0 {
		t.Fatalf("train: %d\n%s%s", code, stdout, stderr)
	}
	runDir := filepath.Join(out, "q")
	code, _, stderr = kiln(t, context.Background(), "export", runDir, "--checkpoint", "int8")
	if code != 1 || !strings.Contains(stderr, "make one with kiln quantize") {
		t.Errorf("export int8 of an unquantised run: %d %s", code, stderr)
	}
	if code, stdout, stderr = kiln(t, context.Background(), "quantize", runDir, "--calib", filepath.Join(data, "train"), "--images", "20", "--no-eval"); code != 0 {
		t.Fatalf("quantize: %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = kiln(t, context.Background(), "export", runDir, "--checkpoint", "int8")
	want := filepath.Join(runDir, "model.int8.onnx")
	if code != 0 || !strings.Contains(stdout, "wrote "+want) || !strings.Contains(stdout, "int8.safetensors") {
		t.Fatalf("export --checkpoint int8: %d\n%s%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"QuantizeLinear", "DequantizeLinear", "Conv", "Gemm", "conv1.weight_scale"} {
		if !bytes.Contains(b, []byte(op)) {
			t.Errorf("%s holds no %s", want, op)
		}
	}
	if _, err := os.Stat(filepath.Join(runDir, "model.onnx")); err == nil {
		t.Errorf("the int8 export wrote model.onnx, the float export's file")
	}
}
