package kernelsrc

import (
	"slices"
	"testing"
)

// TestBackendKernelParams pins the parameter lists internal/backend/cuda
// launches the backend's kernels with: a changed signature must change
// both, or the kernel would read its arguments shifted.
func TestBackendKernelParams(t *testing.T) {
	conv := []string{"float*", "const float*", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int"}
	want := map[string][]string{
		"im2col_batch":    conv,
		"col2im_batch":    conv,
		"cn_to_nchw":      {"float*", "const float*", "const float*", "int", "int", "int", "int", "int"},
		"nchw_to_cn":      {"float*", "const float*", "int", "int", "int"},
		"relu_grad_acc":   {"float*", "const float*", "const float*", "int"},
		"mul_acc_f32":     {"float*", "const float*", "const float*", "int"},
		"maxpool_fwd":     {"float*", "int*", "const float*", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int"},
		"maxpool_bwd_acc": {"float*", "const int*", "const float*", "int", "int", "int"},
		"xent_rows":       {"float*", "int*", "float*", "float*", "const float*", "const int*", "int", "int"},
		"xent_sum":        {"float*", "const float*", "const float*", "int"},
		"xent_grad_acc":   {"float*", "const float*", "const int*", "float", "int", "int"},
		"bn_stats":        {"float*", "float*", "float*", "const float*", "int", "int", "int", "int", "int", "float", "float"},
		"bn_apply":        {"float*", "const float*", "const float*", "const float*", "const float*", "int", "int", "int", "int", "int"},
		"bn_grad_sums": {"float*", "float*", "float*", "const float*", "const float*", "const float*", "const float*",
			"int", "int", "int", "int", "int", "int", "int"},
		"bn_dx_acc":                {"float*", "const float*", "const float*", "const float*", "const float*", "int", "int", "int"},
		"adaptive_avgpool_fwd":     {"float*", "const float*", "int", "int", "int", "int", "int"},
		"adaptive_avgpool_bwd_acc": {"float*", "const float*", "int", "int", "int", "int", "int"},
		"sumsq_partial":            {"float*", "const float*", "int"},
		"clip_scale":               {"float*", "const float*", "int", "float", "int"},
	}
	found := 0
	for _, k := range append(append([]Kernel(nil), backendOps...), normOps...) {
		w, ok := want[k.Name]
		if !ok {
			t.Errorf("kernel %s has no expected signature here", k.Name)
			continue
		}
		found++
		ps, err := k.Params()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ps, w) {
			t.Errorf("%s params %q, want %q", k.Name, ps, w)
		}
	}
	if found != len(want) {
		t.Errorf("%d of %d backend kernels found", found, len(want))
	}
	names := Names()
	for name := range want {
		if !slices.Contains(names, name) {
			t.Errorf("%s is not in the compilation unit", name)
		}
	}
}
