package kernelsrc

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The kernels the CUDA backend needs beyond cuBLAS's GEMM (issue 19).
var required = []string{
	"add_f32", "sub_f32", "mul_f32", "div_f32", "scale_f32", "axpy_f32", "fill_f32",
	"relu_fwd", "relu_bwd", "bias_add_nchw", "bias_add_rows", "bias_grad_nchw", "bias_grad_rows",
	"maxpool2x2_fwd", "maxpool2x2_bwd", "softmax_xent_fwd", "softmax_xent_bwd",
	"adam_step", "sgd_step", "im2col", "col2im",
	// and for the device path's wider coverage
	"adam_amsgrad_step", "rmsprop_step", "sigmoid_fwd", "sigmoid_grad_acc", "tanh_fwd", "tanh_grad_acc",
	"avgpool_fwd", "avgpool_bwd_acc",
}

func TestNamesUniqueAndComplete(t *testing.T) {
	names := Names()
	ident := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	seen := map[string]bool{}
	for _, n := range names {
		if !ident.MatchString(n) {
			t.Errorf("kernel name %q is not a lower-case C identifier", n)
		}
		if seen[n] {
			t.Errorf("kernel %s defined twice", n)
		}
		seen[n] = true
	}
	for _, r := range required {
		if !seen[r] {
			t.Errorf("kernel %s missing", r)
		}
	}
}

func TestParams(t *testing.T) {
	want := map[string][]string{
		"add_f32":          {"float*", "const float*", "const float*", "int"},
		"relu_bwd":         {"float*", "const float*", "const float*", "int"},
		"maxpool2x2_fwd":   {"float*", "int*", "const float*", "int", "int", "int"},
		"softmax_xent_fwd": {"float*", "float*", "const float*", "const int*", "int", "int"},
		"sgd_step":         {"float*", "const float*", "float*", "int", "float", "float", "float", "float", "int", "int", "int"},
		"adam_step": {"float*", "const float*", "float*", "float*", "int", "int",
			"float", "float", "float", "float", "float", "float", "float", "float", "float"},
		"adam_amsgrad_step": {"float*", "const float*", "float*", "float*", "float*", "int", "int",
			"float", "float", "float", "float", "float", "float", "float", "float", "float"},
		"rmsprop_step": {"float*", "const float*", "float*", "float*", "float*", "int",
			"float", "float", "float", "float", "float", "float", "int", "int", "int"},
		"sigmoid_fwd":      {"float*", "const float*", "int"},
		"sigmoid_grad_acc": {"float*", "const float*", "const float*", "int"},
		"tanh_fwd":         {"float*", "const float*", "int"},
		"tanh_grad_acc":    {"float*", "const float*", "const float*", "int"},
		"avgpool_fwd": {"float*", "const float*", "int", "int", "int", "int", "int",
			"int", "int", "int", "int", "int", "int", "int", "int"},
		"avgpool_bwd_acc": {"float*", "const float*", "int", "int", "int", "int", "int",
			"int", "int", "int", "int", "int", "int", "int", "int"},
	}
	for _, k := range All() {
		ps, err := k.Params()
		if err != nil {
			t.Error(err)
			continue
		}
		if len(ps) > 16 {
			t.Errorf("%s: %d parameters", k.Name, len(ps))
		}
		if w, ok := want[k.Name]; ok && !slices.Equal(ps, w) {
			t.Errorf("%s params %q, want %q", k.Name, ps, w)
		}
	}
	if _, err := (Kernel{"f", `extern "C" __global__ void f(double* x)`}).Params(); err == nil {
		t.Error("double* accepted")
	}
	if _, err := (Kernel{"f", `extern "C" __global__ void g(float* x)`}).Params(); err == nil {
		t.Error("a definition under another name accepted")
	}
}

// TestUnit checks the assembled source without compiling it: the prelude
// first, each kernel defined exactly once, brackets balanced per kernel,
// nothing from the C library that NVRTC lacks.
func TestUnit(t *testing.T) {
	u := Unit()
	if !strings.HasPrefix(u, prelude) {
		t.Error("the unit does not start with the prelude")
	}
	if got := strings.Count(u, "__global__"); got != len(All()) {
		t.Errorf("%d __global__ functions, want %d", got, len(All()))
	}
	for _, k := range All() {
		if n := strings.Count(u, " void "+k.Name+"("); n != 1 {
			t.Errorf("%s defined %d times in the unit", k.Name, n)
		}
		for _, pair := range []string{"{}", "()", "[]"} {
			if strings.Count(k.Src, pair[:1]) != strings.Count(k.Src, pair[1:]) {
				t.Errorf("%s: unbalanced %s", k.Name, pair)
			}
		}
		for _, bad := range []string{"#include", "printf", "malloc", "double"} {
			if strings.Contains(k.Src, bad) {
				t.Errorf("%s uses %s", k.Name, bad)
			}
		}
	}
	if Unit() != u {
		t.Error("Unit is not deterministic")
	}
}

func TestCacheKey(t *testing.T) {
	u := Unit()
	k := Key(u, 9, 0)
	if k != Key(u, 9, 0) {
		t.Error("same source and capability, different keys")
	}
	if k == Key(u, 8, 0) || k == Key(u, 9, 1) {
		t.Error("the compute capability does not change the key")
	}
	if k == Key(u+" ", 9, 0) {
		t.Error("a changed source keeps its key")
	}
	if len(k.SrcHash) != 64 || !regexp.MustCompile(`^sm_90-[0-9a-f]{16}$`).MatchString(k.String()) {
		t.Errorf("key %q / %s", k.SrcHash, k)
	}
	if k.Arch() != "--gpu-architecture=sm_90" {
		t.Errorf("Arch = %s", k.Arch())
	}
}
