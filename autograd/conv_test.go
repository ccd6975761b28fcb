package autograd_test

import (
	"math/rand/v2"
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
		{"conv/1x1", conv(autograd.Conv2dOptions{}, true), []*tensor.Tensor{rnd(1, 2, 3, 4, 4), rnd(2, 5, 3, 1, 1), rnd(3, 5)}},
		{"maxpool/2x2", pool("max", autograd.PoolOptions{Kernel: [2]int{2, 2}}), []*tensor.Tensor{distinct(1, 2, 3, 6, 6)}},
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
