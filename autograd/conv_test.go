package autograd_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/tensor"
)

// TestConvPoolGradients checks the convolution and pooling primitives
// against finite differences over their options.
func TestConvPoolGradients(t *testing.T) {
	conv := func(o autograd.Conv2dOptions, bias bool) autogradtest.Func {
		return func(g *T, x []*V) *V {
			var b *V
			if bias {
				b = x[2]
			}
			return g.Conv2d(x[0], x[1], b, o)
		}
	}
	pool := func(kind string, o autograd.PoolOptions) autogradtest.Func {
		return func(g *T, x []*V) *V {
			switch kind {
			case "max":
				return g.MaxPool2d(x[0], o)
			case "avg":
				return g.AvgPool2d(x[0], o)
			}
			return g.AdaptiveAvgPool2d(x[0], o.Kernel[0], o.Kernel[1])
		}
	}
	cases := []struct {
		name string
		f    autogradtest.Func
		in   []*tensor.Tensor
	}{
		{"conv/plain", conv(autograd.Conv2dOptions{}, true), []*tensor.Tensor{rnd(1, 2, 3, 6, 5), rnd(2, 4, 3, 3, 3), rnd(3, 4)}},
		{"conv/stride-pad", conv(autograd.Conv2dOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 2}}, true), []*tensor.Tensor{rnd(1, 2, 2, 7, 6), rnd(2, 3, 2, 3, 2), rnd(3, 3)}},
		{"conv/dilation-nobias", conv(autograd.Conv2dOptions{Dilation: [2]int{2, 2}, Padding: [2]int{1, 1}}, false), []*tensor.Tensor{rnd(1, 1, 2, 7, 7), rnd(2, 2, 2, 3, 3)}},
		{"conv/groups", conv(autograd.Conv2dOptions{Groups: 2}, true), []*tensor.Tensor{rnd(1, 2, 4, 5, 5), rnd(2, 6, 2, 2, 2), rnd(3, 6)}},
		{"conv/relu-fused", func(g *T, x []*V) *V {
			return g.Conv2dReLU(x[0], x[1], x[2], autograd.Conv2dOptions{Padding: [2]int{1, 1}})
		},
			kinkFree(autograd.Conv2dOptions{Padding: [2]int{1, 1}})},
		{"conv/1x1", conv(autograd.Conv2dOptions{}, true), []*tensor.Tensor{rnd(1, 2, 3, 4, 4), rnd(2, 5, 3, 1, 1), rnd(3, 5)}},
		// An intermediate input gets its data gradient written in place
		// (the first contribution) and then added to (the second).
		{"conv/intermediate-input-read-twice", func(g *T, x []*V) *V {
			h := g.Tanh(x[0])
			o := autograd.Conv2dOptions{Padding: [2]int{1, 1}}
			return g.Add(g.Conv2d(h, x[1], nil, o), g.MulScalar(g.Conv2d(h, x[2], nil, o), 0.5))
		}, []*tensor.Tensor{rnd(1, 2, 3, 5, 4), rnd(2, 4, 3, 3, 3), rnd(3, 4, 3, 3, 3)}},
		{"maxpool/2x2", pool("max", autograd.PoolOptions{Kernel: [2]int{2, 2}}), []*tensor.Tensor{distinct(1, 2, 3, 6, 6)}},
		// An intermediate input's gradient is written whole, not cleared
		// and added to (odd sizes leave a row and a column uncovered).
		{"maxpool/2x2-intermediate-input", func(g *T, x []*V) *V {
			return g.MaxPool2d(g.Tanh(x[0]), autograd.PoolOptions{Kernel: [2]int{2, 2}})
		}, []*tensor.Tensor{distinct(1, 2, 3, 7, 9)}},
		{"maxpool/pad-ceil", pool("max", autograd.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, CeilMode: true}), []*tensor.Tensor{distinct(1, 1, 2, 7, 6)}},
		{"avgpool/3x3-s2-pad", pool("avg", autograd.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}), []*tensor.Tensor{rnd(1, 2, 2, 7, 6)}},
		{"avgpool/exclude-pad-divisor", pool("avg", autograd.PoolOptions{Kernel: [2]int{2, 3}, Padding: [2]int{1, 1}, ExcludePad: true, Divisor: 5}), []*tensor.Tensor{rnd(1, 1, 2, 5, 6)}},
		{"adaptiveavg/3x2", pool("adaptive", autograd.PoolOptions{Kernel: [2]int{3, 2}}), []*tensor.Tensor{rnd(1, 2, 2, 7, 5)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Pooling inputs are spaced ~0.01 apart; a smaller step keeps
			// every window's winner fixed.
			autogradtest.Check(t, c.f, c.in, autogradtest.Options{Eps: 1e-3, ATol: 2e-3})
		})
	}
}

// distinct returns a tensor whose values are a random permutation of evenly
// spaced numbers in [-1, 1), so that a finite-difference step never changes
// which element of a window is the maximum.
func distinct(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	d := t.Data()
	r := rand.New(rand.NewPCG(seed, 3))
	for i, j := range r.Perm(len(d)) {
		d[i] = -1 + 2*float32(j)/float32(len(d))
	}
	return t
}

// TestConv2dReLUEqualsComposition checks the fused primitive against
// ReLU(Conv2d) in values and gradients.
func TestConv2dReLUEqualsComposition(t *testing.T) {
	x, w, b := rnd(1, 2, 3, 7, 6), rnd(2, 4, 3, 3, 3), rnd(3, 4)
	o := autograd.Conv2dOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 1}}
	run := func(fused bool) ([]float32, [][]float32) {
		vs := []*V{autograd.NewVar(x.Clone(), true), autograd.NewVar(w.Clone(), true), autograd.NewVar(b.Clone(), true)}
		g := autograd.NewTape()
		var y *V
		if fused {
			y = g.Conv2dReLU(vs[0], vs[1], vs[2], o)
		} else {
			y = g.ReLU(g.Conv2d(vs[0], vs[1], vs[2], o))
		}
		g.BackwardWith(y, rnd(4, y.Shape()...))
		return y.Value().Values(), [][]float32{vs[0].Grad().Values(), vs[1].Grad().Values(), vs[2].Grad().Values()}
	}
	y1, g1 := run(true)
	y2, g2 := run(false)
	for i := range y1 {
		if y1[i] != y2[i] {
			t.Fatalf("output %d: fused %v, composed %v", i, y1[i], y2[i])
		}
	}
	for k := range g1 {
		for i := range g1[k] {
			if g1[k][i] != g2[k][i] {
				t.Fatalf("gradient of input %d, element %d: fused %v, composed %v", k, i, g1[k][i], g2[k][i])
			}
		}
	}
}

// kinkFree returns conv inputs (x, w, b) whose every pre-activation is at
// least 0.02 from zero, so that a finite-difference step cannot cross the
// ReLU's kink; it tries seeds in order, so the result is deterministic.
func kinkFree(o autograd.Conv2dOptions) []*tensor.Tensor {
	for seed := uint64(1); ; seed += 3 {
		in := []*tensor.Tensor{rnd(seed, 2, 3, 5, 5), rnd(seed+1, 4, 3, 3, 3), rnd(seed+2, 4)}
		g := autograd.NewTape()
		z := g.Conv2d(g.Const(in[0]), g.Const(in[1]), g.Const(in[2]), o)
		ok := true
		for _, v := range z.Data() {
			ok = ok && (v > 0.02 || v < -0.02)
		}
		if ok {
			return in
		}
	}
}

// pool2x2 is the 2x2, stride-2 max pooling Conv2dReLUMaxPool runs in one
// pass.
var pool2x2 = autograd.PoolOptions{Kernel: [2]int{2, 2}}

// TestConv2dReLUMaxPool2x2 requires the one-pass op to give the bits of
// the two ops, recording or not, in values and in gradients, and checks its
// gradients against finite differences.
func TestConv2dReLUMaxPool2x2(t *testing.T) {
	x, w, b := rnd(1, 4, 3, 9, 8), rnd(2, 5, 3, 3, 3), rnd(3, 5)
	o := autograd.Conv2dOptions{Padding: [2]int{1, 0}}
	g := autograd.NewTape()
	want := g.MaxPool2d(g.Conv2dReLU(g.Const(x), g.Const(w), g.Const(b), o), autograd.PoolOptions{Kernel: [2]int{2, 2}}).Value().Values()
	for _, recording := range []bool{false, true} {
		g := autograd.NewTape()
		g.SetGradEnabled(recording)
		got := g.Conv2dReLUMaxPool(g.Const(x), g.Const(w), g.Const(b), o, pool2x2)
		if !slices.Equal(got.Shape(), []int{4, 5, 4, 3}) {
			t.Fatalf("recording %v: shape %v, want [4 5 4 3]", recording, got.Shape())
		}
		for i, v := range got.Value().Values() {
			if math.Float32bits(v) != math.Float32bits(want[i]) {
				t.Fatalf("recording %v: y[%d] = %v, the two ops give %v", recording, i, v, want[i])
			}
		}
	}
	autogradtest.Check(t, func(g *T, v []*V) *V {
		return g.Conv2dReLUMaxPool(v[0], v[1], v[2], autograd.Conv2dOptions{Padding: [2]int{1, 1}}, pool2x2)
	}, kinkFree(autograd.Conv2dOptions{Padding: [2]int{1, 1}}), autogradtest.Options{Eps: 1e-3, ATol: 2e-3})

	// Recording, the gradients of x (an intermediate here, and a leaf
	// through it), w and b are the two ops' to the bit.
	seed := rnd(4, 4, 5, 4, 3)
	run := func(fused bool) [][]float32 {
		vs := []*V{autograd.NewVar(x.Clone(), true), autograd.NewVar(w.Clone(), true), autograd.NewVar(b.Clone(), true)}
		g := autograd.NewTape()
		h := g.Tanh(vs[0])
		var y *V
		if fused {
			y = g.Conv2dReLUMaxPool(h, vs[1], vs[2], o, pool2x2)
		} else {
			y = g.MaxPool2d(g.Conv2dReLU(h, vs[1], vs[2], o), autograd.PoolOptions{Kernel: [2]int{2, 2}})
		}
		g.BackwardWith(y, seed)
		return [][]float32{vs[0].Grad().Values(), vs[1].Grad().Values(), vs[2].Grad().Values()}
	}
	g1, g2 := run(true), run(false)
	for k := range g1 {
		for i := range g1[k] {
			if math.Float32bits(g1[k][i]) != math.Float32bits(g2[k][i]) {
				t.Fatalf("gradient of input %d, element %d: fused %v, two ops %v", k, i, g1[k][i], g2[k][i])
			}
		}
	}

	// With x a constant (a first layer), the fused op routes each chunk's
	// output gradient from the pooled one (Conv2dBackwardWeightPooled):
	// still the two ops' bits, with and without a bias, batch 32 so that
	// chunks hold several images, and odd sizes that leave a row and a
	// column out of every window.
	xb := rnd(5, 32, 3, 11, 13)
	seedB := rnd(6, 32, 4, 4, 5)
	for _, bias := range []bool{true, false} {
		runConst := func(fused bool) [][]float32 {
			wv := autograd.NewVar(rnd(7, 4, 3, 3, 3), true)
			var bv *V
			if bias {
				bv = autograd.NewVar(rnd(8, 4), true)
			}
			g := autograd.NewTape()
			var y *V
			if fused {
				y = g.Conv2dReLUMaxPool(g.Const(xb), wv, bv, autograd.Conv2dOptions{}, pool2x2)
			} else {
				y = g.MaxPool2d(g.Conv2dReLU(g.Const(xb), wv, bv, autograd.Conv2dOptions{}), autograd.PoolOptions{Kernel: [2]int{2, 2}})
			}
			g.BackwardWith(y, seedB)
			out := [][]float32{wv.Grad().Values()}
			if bias {
				out = append(out, bv.Grad().Values())
			}
			return out
		}
		g1, g2 := runConst(true), runConst(false)
		for k := range g1 {
			for i := range g1[k] {
				if math.Float32bits(g1[k][i]) != math.Float32bits(g2[k][i]) {
					t.Fatalf("constant x, bias %v: gradient %d, element %d: fused %v, two ops %v", bias, k, i, g1[k][i], g2[k][i])
				}
			}
		}
	}
}
