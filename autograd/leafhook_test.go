package autograd

import (
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/tensor"
)

// TestLeafHookReportsFinalGradients checks that the leaf hook sees every
// leaf the loss depends on exactly once, when its gradient no longer
// changes, and in an order that starts with the layers nearest the loss.
func TestLeafHookReportsFinalGradients(t *testing.T) {
	w1 := NewVar(tensor.FromSlice([]float32{0.5, -1, 2}, 3), true)
	w2 := NewVar(tensor.FromSlice([]float32{1.5, 0.25, -0.75}, 3), true)
	unused := NewVar(tensor.FromSlice([]float32{1, 2, 3}, 3), true)
	x := NewVar(tensor.FromSlice([]float32{1, 2, 3}, 3), false)
	g := NewTape()
	var order []*Var
	var seen [][]float32
	g.SetLeafHook(func(v *Var) {
		order = append(order, v)
		seen = append(seen, slices.Clone(v.Grad().Data()))
	})
	for pass := range 3 {
		order, seen = nil, nil
		g.Reset()
		// w1 is read by the first node and again by the third, so its
		// gradient is final only when backward reaches the first.
		h := g.Tanh(g.Mul(x, w1))
		h = g.Mul(h, w2)
		h = g.Add(h, g.Mul(w1, w1))
		loss := g.SumAll(h)
		g.Backward(loss)
		if len(order) != 2 || order[0] != w2 || order[1] != w1 {
			t.Fatalf("pass %d: the hook saw %d leaves (w2 first: %v), want w2 then w1", pass, len(order), len(order) > 0 && order[0] == w2)
		}
		for i, v := range order {
			if !slices.Equal(seen[i], v.Grad().Data()) {
				t.Errorf("pass %d: leaf %d reported with gradient %v, final %v", pass, i, seen[i], v.Grad().Data())
			}
		}
		if unused.Grad() != nil {
			t.Errorf("the unused leaf got a gradient")
		}
		// Gradients accumulate across passes: reset them as a step would.
		for _, v := range []*Var{w1, w2} {
			clear(v.Grad().Data())
		}
	}
}
