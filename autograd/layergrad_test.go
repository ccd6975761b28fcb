package autograd_test

import (
	"math"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/tensor"
)

// layerCase is one Linear or Conv2d node: f applies it to x with weight w
// and bias b (nil: none).
type layerCase struct {
	name    string
	f       func(g *T, x, w, b *V) *V
	x, w, b []int // shapes; b nil for no bias
}

var layerCases = []layerCase{
	{"linear", func(g *T, x, w, b *V) *V { return g.Linear(x, w, b) }, []int{5, 4}, []int{3, 4}, []int{3}},
	{"linear/sequence", func(g *T, x, w, b *V) *V { return g.Linear(x, w, b) }, []int{4, 3, 5}, []int{2, 5}, []int{2}},
	{"linear/nobias", func(g *T, x, w, b *V) *V { return g.Linear(x, w, nil) }, []int{3, 6}, []int{4, 6}, nil},
	{"conv", func(g *T, x, w, b *V) *V { return g.Conv2d(x, w, b, autograd.Conv2dOptions{}) }, []int{3, 2, 6, 5}, []int{4, 2, 3, 3}, []int{4}},
	{"conv/stride-pad-groups", func(g *T, x, w, b *V) *V {
		return g.Conv2d(x, w, b, autograd.Conv2dOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 2}, Groups: 2})
	}, []int{4, 4, 7, 6}, []int{6, 2, 3, 2}, []int{6}},
	{"conv/relu", func(g *T, x, w, b *V) *V {
		return g.Conv2dReLU(x, w, b, autograd.Conv2dOptions{Padding: [2]int{1, 1}})
	}, []int{3, 3, 5, 5}, []int{4, 3, 3, 3}, []int{4}},
}

// layerGraph runs loss = sum(f(x) * r) on g and returns the loss.
func layerGraph(g *T, c layerCase, x, w, b *V, r *tensor.Tensor) *V {
	return g.SumAll(g.Mul(c.f(g, x, w, b), g.Const(r)))
}

// TestLayerGradHook checks, for Linear and Conv2d nodes, that each
// example's gradient that ExampleGrad computes from one batched backward
// equals a backward over that example alone; that ScaledGrad equals the
// scaled sum of those; and that the hook leaves the input's gradient as
// it was and the parameters' untouched.
func TestLayerGradHook(t *testing.T) {
	for i, c := range layerCases {
		t.Run(c.name, func(t *testing.T) {
			seed := uint64(10 * i)
			xt := autogradtest.Rand(seed+1, -1, 1, c.x...)
			w := autograd.NewVar(autogradtest.Rand(seed+2, -1, 1, c.w...), true)
			var b *V
			if c.b != nil {
				b = autograd.NewVar(autogradtest.Rand(seed+3, -1, 1, c.b...), true)
			}
			g := autograd.NewTape()
			x := autograd.NewVar(xt, true)
			yShape := slices.Clone(c.f(g, x, w, b).Shape())
			r := autogradtest.Rand(seed+4, -1, 1, yShape...)
			N := c.x[0]
			nb := 0
			if b != nil {
				nb = b.Value().Len()
			}

			// One example at a time, without the hook.
			wantW, wantB := make([][]float32, N), make([][]float32, N)
			xs, rs := xt.Len()/N, r.Len()/N
			for n := range N {
				zero(w, b)
				g.Reset()
				xn := tensor.FromSlice(slices.Clone(xt.Data()[n*xs:(n+1)*xs]), append([]int{1}, c.x[1:]...)...)
				rn := tensor.FromSlice(slices.Clone(r.Data()[n*rs:(n+1)*rs]), append([]int{1}, yShape[1:]...)...)
				g.Backward(layerGraph(g, c, g.Const(xn), w, b, rn))
				wantW[n] = slices.Clone(w.Grad().Data())
				if b != nil {
					wantB[n] = slices.Clone(b.Grad().Data())
				}
			}

			// The whole batch without the hook, for the input's gradient.
			zero(w, b)
			g.Reset()
			g.Backward(layerGraph(g, c, x, w, b, r))
			wantDX := slices.Clone(x.Grad().Data())

			// The whole batch with the hook.
			zero(w, b)
			x.ZeroGrad()
			g.Reset()
			var seen []autograd.LayerGrad
			g.SetLayerGradHook(func(l autograd.LayerGrad) { seen = append(seen, l) })
			g.Backward(layerGraph(g, c, x, w, b, r))
			g.SetLayerGradHook(nil)
			if len(seen) != 1 || seen[0].Weight != w || seen[0].Bias != b || seen[0].Examples() != N {
				t.Fatalf("the hook saw %d nodes, want the one layer of %d examples", len(seen), N)
			}
			if !slices.Equal(x.Grad().Data(), wantDX) {
				t.Error("the hook changed the input's gradient")
			}
			if l2(w.Grad().Data()) != 0 || b != nil && l2(b.Grad().Data()) != 0 {
				t.Error("the hook let the parameters' gradients accumulate")
			}
			l := seen[0]
			ws := make([]float32, l.WorkspaceLen())
			scale := make([]float32, N)
			sumW, sumB := make([]float32, w.Value().Len()), make([]float32, nb)
			for n := range N {
				dw, db := make([]float32, w.Value().Len()), make([]float32, nb)
				l.ExampleGrad(n, dw, nilIfEmpty(db), ws)
				closeTo(t, "weight", n, dw, wantW[n])
				if b != nil {
					closeTo(t, "bias", n, db, wantB[n])
				}
				scale[n] = float32(n+1) / float32(N)
				for k := range dw {
					sumW[k] += scale[n] * wantW[n][k]
				}
				for k := range db {
					sumB[k] += scale[n] * wantB[n][k]
				}
			}
			dw, db := make([]float32, len(sumW)), make([]float32, len(sumB))
			l.ScaledGrad(scale, dw, nilIfEmpty(db))
			closeTo(t, "scaled weight sum", -1, dw, sumW)
			closeTo(t, "scaled bias sum", -1, db, sumB)
		})
	}
}

func zero(vs ...*V) {
	for _, v := range vs {
		if v != nil {
			v.ZeroGrad()
		}
	}
}

func nilIfEmpty(s []float32) []float32 {
	if len(s) == 0 {
		return nil
	}
	return s
}

func l2(s []float32) float64 {
	var t float64
	for _, v := range s {
		t += float64(v) * float64(v)
	}
	return math.Sqrt(t)
}

func closeTo(t *testing.T, what string, n int, got, want []float32) {
	t.Helper()
	for k := range want {
		if d := math.Abs(float64(got[k] - want[k])); d > 1e-5*math.Max(1, math.Abs(float64(want[k]))) {
			t.Fatalf("%s, example %d, [%d]: %v, want %v", what, n, k, got[k], want[k])
		}
	}
}
