package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestQuantize quantises a tiny run calibrated on its training images,
// and requires: the int8 accuracy printed within 5 points of float32's on
// the tiny test set, eval and predict with --checkpoint int8, and no
// second quantisation over the first.
func TestQuantize(t *testing.T) {
	data, sample := tinyData(t)
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "train", "--data", data, "--image-size", "16", "--channels", "1", "--epochs", "2",
		"--batch-size", "16", "--workers", "2", "--out", out, "--name", "q")
	if code != 0 {
		t.Fatalf("train: %d\n%s%s", code, stdout, stderr)
	}
	runDir := filepath.Join(out, "q")
	code, stdout, stderr = kiln(t, context.Background(), "quantize", runDir, "--calib", filepath.Join(data, "train"), "--images", "40")
	if code != 0 || !strings.Contains(stdout, "calibrated on 40 images") {
		t.Fatalf("quantize: %d\n%s%s", code, stdout, stderr)
	}
	acc := regexp.MustCompile(`(?m)^(best|int8) .* accuracy ([0-9.]+)%`).FindAllStringSubmatch(stdout, -1)
	if len(acc) != 2 {
		t.Fatalf("quantize printed no float32 and int8 accuracy:\n%s", stdout)
	}
	f, _ := strconv.ParseFloat(acc[0][2], 64)
	q, _ := strconv.ParseFloat(acc[1][2], 64)
	if q < f-5 {
		t.Errorf("int8 accuracy %.2f%%, float32 %.2f%%", q, f)
	}
	code, stdout, stderr = kiln(t, context.Background(), "eval", runDir, "--checkpoint", "int8")
	if code != 0 || !strings.Contains(stdout, "int8.safetensors") || !strings.Contains(stdout, acc[1][2]+"%") {
		t.Errorf("eval --checkpoint int8: %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = kiln(t, context.Background(), "predict", runDir, sample, "--checkpoint", "int8")
	if code != 0 || !strings.Contains(stdout, "1. ") {
		t.Errorf("predict --checkpoint int8: %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = kiln(t, context.Background(), "quantize", runDir, "--calib", data)
	if code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("quantize again: %d %s", code, stderr)
	}
	other, _ := trainTiny(t, "plain")
	code, _, stderr = kiln(t, context.Background(), "eval", other, "--checkpoint", "int8")
	if code != 1 || !strings.Contains(stderr, "make one with kiln quantize") {
		t.Errorf("eval int8 of an unquantised run: %d %s", code, stderr)
	}
	code, stdout, stderr = kiln(t, context.Background(), "quantize", other, "--no-eval")
	if code != 0 || !strings.Contains(stdout, "calibrated on 43 images") {
		t.Errorf("quantize on the run's own training images: %d %s%s", code, stdout, stderr)
	}
}
