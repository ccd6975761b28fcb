package autograd_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests the dropout primitive: the drop rate, the scaling, the
// gradient through the mask and reproducibility from the generator.

// TestDropoutRate checks that about a fraction p of a large tensor is zeroed
// and that every kept element is x/(1-p).
func TestDropoutRate(t *testing.T) {
	// An odd length covers the last, unpaired element; x has no zeros of
	// its own.
	const n = 200_001
	x := autogradtest.Rand(1, 0.5, 1.5, n)
	for _, p := range []float32{0.1, 0.5, 0.9} {
		g := autograd.NewTape()
		y := g.Dropout(g.Const(x), p, rand.New(rand.NewPCG(7, 8)))
		zeros := 0
		for i, v := range y.Data() {
			if v == 0 {
				zeros++
				continue
			}
			if want := x.Data()[i] * (1 / (1 - p)); v != want { // PyTorch multiplies by the mask 1/(1-p)
				t.Fatalf("p=%v: kept element %d = %v, want %v", p, i, v, want)
			}
		}
		// The zero count is binomial; 6 standard deviations never fail by chance.
		sd := math.Sqrt(float64(p) * float64(1-p) / n)
		if frac := float64(zeros) / n; math.Abs(frac-float64(p)) > 6*sd {
			t.Errorf("p=%v: zeroed fraction %.4f", p, frac)
		}
	}
}

// TestDropoutGradient checks the gradient against finite differences with a
// fixed mask: f draws from a fresh generator with the same seed each call.
func TestDropoutGradient(t *testing.T) {
	for _, p := range []float32{0.3, 0.8} {
		f := func(g *T, x []*V) *V {
			return g.Mul(g.Dropout(x[0], p, rand.New(rand.NewPCG(3, 4))), x[1])
		}
		autogradtest.Check(t, f, []*tensor.Tensor{rnd(1, 3, 7), rnd(2, 3, 7)}, autogradtest.Options{})
	}
}

// TestDropoutMaskReuse checks that backward uses the forward's mask: the
// input's gradient is the output divided by the input, elementwise.
func TestDropoutMaskReuse(t *testing.T) {
	g := autograd.NewTape()
	x := autograd.NewVar(autogradtest.Rand(1, 1, 2, 64), true)
	y := g.Dropout(x, 0.5, rand.New(rand.NewPCG(1, 1)))
	g.Backward(g.SumAll(y))
	for i, d := range x.Grad().Data() {
		if want := y.Data()[i] / x.Data()[i]; math.Abs(float64(d-want)) > 1e-6 {
			t.Fatalf("grad[%d] = %v, want %v", i, d, want)
		}
	}
}

// TestDropoutEdges checks p = 0, p = 1, reproducibility and bad p.
func TestDropoutEdges(t *testing.T) {
	g := autograd.NewTape()
	x := g.Const(autogradtest.Rand(1, 1, 2, 33))
	if y := g.Dropout(x, 0, nil); y != x {
		t.Error("p=0 did not return its input")
	}
	for i, v := range g.Dropout(x, 1, nil).Data() {
		if v != 0 {
			t.Fatalf("p=1: element %d = %v", i, v)
		}
	}
	a := g.Dropout(x, 0.5, rand.New(rand.NewPCG(9, 9))).Data()
	b := g.Dropout(x, 0.5, rand.New(rand.NewPCG(9, 9))).Data()
	c := g.Dropout(x, 0.5, rand.New(rand.NewPCG(9, 10))).Data()
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same || !differ {
		t.Errorf("same seed equal %v, other seed different %v; want both", same, differ)
	}
	// One draw per call: the generator ends where one Uint64 takes it.
	r1, r2 := rand.New(rand.NewPCG(5, 6)), rand.New(rand.NewPCG(5, 6))
	g.Dropout(x, 0.3, r1)
	r2.Uint64()
	if r1.Uint64() != r2.Uint64() {
		t.Error("Dropout did not take exactly one draw from its generator")
	}
	for _, p := range []float32{-0.1, 1.5, float32(math.NaN())} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("p=%v: no panic", p)
				}
			}()
			g.Dropout(x, p, rand.New(rand.NewPCG(1, 1)))
		}()
	}
}

// BenchmarkDropout times forward and backward on a million elements.
func BenchmarkDropout(b *testing.B) {
	x := autograd.NewVar(autogradtest.Rand(1, -1, 1, 1<<20), true)
	dy := autogradtest.Rand(2, -1, 1, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	g := autograd.NewTape()
	b.SetBytes(4 << 20)
	b.ReportAllocs()
	for b.Loop() {
		g.Reset()
		g.BackwardWith(g.Dropout(x, 0.5, rng), dy)
	}
}
