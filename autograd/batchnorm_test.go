package autograd_test

import (
	"math"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests the batch-norm primitive on its own: gradients against
// finite differences, the forward pass and running-statistics update against
// a float64 reference written from the definition. Agreement with PyTorch is
// tested in package nn against golden values.

// TestBatchNormGradients checks every input's gradient in training and
// evaluation mode, with and without the affine parameters.
func TestBatchNormGradients(t *testing.T) {
	stats := func(c int) (*tensor.Tensor, *tensor.Tensor) {
		return autogradtest.Rand(90, -0.5, 0.5, c), autogradtest.Rand(91, 0.5, 1.5, c)
	}
	cases := []struct {
		name     string
		x        []int
		affine   bool
		training bool
		running  bool
	}{
		{"train/nc-affine", []int{6, 3}, true, true, true},
		{"train/ncl-affine", []int{4, 3, 5}, true, true, true},
		{"train/nchw-affine", []int{2, 3, 3, 2}, true, true, false},
		{"train/ncl-plain", []int{3, 2, 4}, false, true, true},
		{"train/nchw-plain", []int{2, 2, 2, 3}, false, true, false},
		{"eval/nc-affine", []int{5, 3}, true, false, true},
		{"eval/nchw-affine", []int{2, 3, 2, 2}, true, false, true},
		{"eval/ncl-plain", []int{2, 3, 4}, false, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := c.x[1]
			in := []*tensor.Tensor{autogradtest.Rand(1, -1, 2, c.x...)}
			if c.affine {
				in = append(in, autogradtest.Rand(2, 0.5, 1.5, ch), rnd(3, ch))
			}
			var rm, rv *tensor.Tensor
			if c.running {
				rm, rv = stats(ch)
			}
			f := func(g *T, x []*V) *V {
				var w, b *V
				if c.affine {
					w, b = x[1], x[2]
				}
				// Training mode moves the running statistics on every
				// call, which the output must not depend on.
				return g.BatchNorm(x[0], rm, rv, w, b, c.training, 0.1, 1e-5)
			}
			autogradtest.Check(t, f, in, autogradtest.Options{Seed: 5})
		})
	}
}

// refBatchNorm computes batch norm of a contiguous (N, C, S) array in float64
// straight from the definition, returning the output and the batch's mean
// and unbiased variance per channel.
func refBatchNorm(x []float32, n, c, s int, mean, variance []float64, w, b []float32, eps float64) (y []float64, bm, bv []float64) {
	m := n * s
	bm, bv = make([]float64, c), make([]float64, c)
	for ch := 0; ch < c; ch++ {
		var sum float64
		for i := 0; i < n; i++ {
			for j := 0; j < s; j++ {
				sum += float64(x[(i*c+ch)*s+j])
			}
		}
		bm[ch] = sum / float64(m)
		var ss float64
		for i := 0; i < n; i++ {
			for j := 0; j < s; j++ {
				d := float64(x[(i*c+ch)*s+j]) - bm[ch]
				ss += d * d
			}
		}
		bv[ch] = ss / float64(m-1)
	}
	if mean == nil { // training: normalise with the biased batch variance
		mean = bm
		variance = make([]float64, c)
		for ch := range variance {
			variance[ch] = bv[ch] * float64(m-1) / float64(m)
		}
	}
	y = make([]float64, len(x))
	for i := range x {
		ch := i / s % c
		v := (float64(x[i]) - mean[ch]) / math.Sqrt(variance[ch]+eps)
		if w != nil {
			v = v*float64(w[ch]) + float64(b[ch])
		}
		y[i] = v
	}
	return y, bm, bv
}

func bnClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
			return
		}
	}
}

func bnWiden(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// TestBatchNormForward checks the output and the running statistics in both
// modes against refBatchNorm, with a large offset in x so that a one-pass
// float32 variance would visibly lose digits.
func TestBatchNormForward(t *testing.T) {
	const n, c, s = 4, 3, 6
	const mom, eps = 0.25, 1e-3
	x := autogradtest.Rand(1, 99, 101, n, c, s)
	w, b := autogradtest.Rand(2, 0.5, 1.5, c), autogradtest.Rand(3, -1, 1, c)
	rm0, rv0 := autogradtest.Rand(4, -1, 1, c), autogradtest.Rand(5, 0.5, 2, c)

	for _, training := range []bool{true, false} {
		for _, grad := range []bool{true, false} {
			rm, rv := rm0.Clone(), rv0.Clone()
			g := autograd.NewTape()
			g.SetGradEnabled(grad)
			xv := autograd.NewVar(x.Clone(), true)
			y := g.BatchNorm(xv, rm, rv, autograd.NewVar(w, true), autograd.NewVar(b, true), training, mom, eps)
			var mean, variance []float64
			if !training {
				mean, variance = bnWiden(rm0.Data()), bnWiden(rv0.Data())
			}
			want, bm, bv := refBatchNorm(x.Data(), n, c, s, mean, variance, w.Data(), b.Data(), eps)
			bnClose(t, "y", y.Data(), want, 1e-4)
			if y.RequiresGrad() != grad {
				t.Errorf("training=%v grad=%v: RequiresGrad %v", training, grad, y.RequiresGrad())
			}
			wantM, wantV := bnWiden(rm0.Data()), bnWiden(rv0.Data())
			if training { // updated whether or not gradients are on
				for ch := range wantM {
					wantM[ch] = (1-mom)*wantM[ch] + mom*bm[ch]
					wantV[ch] = (1-mom)*wantV[ch] + mom*bv[ch]
				}
			}
			bnClose(t, "running_mean", rm.Data(), wantM, 1e-6)
			bnClose(t, "running_var", rv.Data(), wantV, 1e-6)
		}
	}
}

// TestBatchNormNoRunningStats checks that training without running
// statistics normalises each channel to mean 0 and variance 1.
func TestBatchNormNoRunningStats(t *testing.T) {
	g := autograd.NewTape()
	x := g.Const(autogradtest.Rand(7, -3, 5, 8, 2, 3, 3))
	y := g.BatchNorm(x, nil, nil, nil, nil, true, 0.1, 0)
	ys := y.Data()
	for ch := 0; ch < 2; ch++ {
		var s, ss float64
		for i := 0; i < 8; i++ {
			for _, v := range ys[(i*2+ch)*9 : (i*2+ch+1)*9] {
				s += float64(v)
				ss += float64(v) * float64(v)
			}
		}
		if mean, variance := s/72, ss/72; math.Abs(mean) > 1e-5 || math.Abs(variance-1) > 1e-4 {
			t.Errorf("channel %d: mean %g variance %g, want 0 and 1", ch, mean, variance)
		}
	}
}

// TestBatchNormPanics checks the programmer errors PyTorch also rejects.
func TestBatchNormPanics(t *testing.T) {
	cases := []struct {
		name string
		f    func(g *T)
	}{
		{"one value per channel", func(g *T) { g.BatchNorm(g.Const(tensor.New(1, 3)), nil, nil, nil, nil, true, 0.1, 1e-5) }},
		{"eval without stats", func(g *T) { g.BatchNorm(g.Const(tensor.New(2, 3)), nil, nil, nil, nil, false, 0.1, 1e-5) }},
		{"one running stat", func(g *T) { g.BatchNorm(g.Const(tensor.New(2, 3)), tensor.New(3), nil, nil, nil, true, 0.1, 1e-5) }},
		{"weight shape", func(g *T) {
			g.BatchNorm(g.Const(tensor.New(2, 3)), nil, nil, autograd.NewVar(tensor.New(2), true), nil, true, 0.1, 1e-5)
		}},
		{"1-d input", func(g *T) { g.BatchNorm(g.Const(tensor.New(3)), nil, nil, nil, nil, true, 0.1, 1e-5) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f(autograd.NewTape())
		})
	}
}

// BenchmarkBatchNorm2d times forward and backward in training mode on a
// (32, 32, 28, 28) activation, a small CNN's first block.
func BenchmarkBatchNorm2d(b *testing.B) {
	const n, c, h = 32, 32, 28
	x := autograd.NewVar(autogradtest.Rand(1, -1, 1, n, c, h, h), true)
	w, bias := autograd.NewVar(tensor.Full(1, c), true), autograd.NewVar(tensor.New(c), true)
	rm, rv := tensor.New(c), tensor.Full(1, c)
	dy := autogradtest.Rand(2, -1, 1, n, c, h, h)
	g := autograd.NewTape()
	b.SetBytes(int64(4 * n * c * h * h))
	b.ReportAllocs()
	for b.Loop() {
		g.Reset()
		g.BackwardWith(g.BatchNorm(x, rm, rv, w, bias, true, 0.1, 1e-5), dy)
	}
}
