package conv

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// TestDirectBitIdentical runs the forward pass (plain, with bias and ReLU,
// and pooled) on the direct path, on 1 to 4 goroutines and with chunks of
// every size the path settings choose, and requires the bits of the GEMM
// path with the column matrix written out, on one goroutine: each output
// is the same chain of FMAs over the taps.
func TestDirectBitIdentical(t *testing.T) {
	if kernels.DirectConvTaps() == 0 {
		t.Skip("the direct path needs the AVX-512 GEMM kernel; this CPU runs " + kernels.GemmKernelName())
	}
	defer kernels.SetThreads(kernels.ThreadSetting())
	defer func(d, i, ch int) { directConv, implicitGEMM, chunkOverride = d, i, ch }(directConv, implicitGEMM, chunkOverride)
	r := rand.New(rand.NewPCG(32, 0))
	cases := append([]struct {
		name string
		p    Conv2dParams
	}{
		{"wide rows", cp(3, 2, 6, 70, 9, 3, 3, pad(1, 1))},
		{"one lane over", cp(2, 3, 8, 21, 8, 2, 5)},
		{"most taps", cp(2, 28, 8, 12, 16, 3, 3, pad(1, 1))},
		{"grouped", cp(3, 4, 9, 18, 6, 3, 3, pad(1, 0), groups(2))},
	}, implicitCases...)
	cases = append(cases, convCases...)
	ran := 0
	for _, tc := range cases {
		p := tc.p
		directConv = directAlways
		if !directForward(&p) {
			continue
		}
		ran++
		x := randF32(r, p.N*p.C*p.H*p.W)
		w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		b := randF32(r, p.OutC)
		n := p.N * p.OutC * p.OutH() * p.OutW()
		pooled := p.N * p.OutC * (p.OutH() / 2) * (p.OutW() / 2)
		run := func(mode, threads, chunk int) [4][]float32 {
			directConv, implicitGEMM, chunkOverride = mode, implicitNever, chunk
			kernels.SetThreads(threads)
			ws := make([]float32, p.WorkspaceLen())
			y, yr := make([]float32, n), make([]float32, n)
			Conv2dForward(p, x, w, nil, y, ws)
			Conv2dForwardReLU(p, x, w, b, yr, ws)
			var yp, idx []float32
			if p.CanPool() {
				yp = make([]float32, pooled)
				ix := make([]int32, pooled)
				Conv2dForwardReLUPool(p, x, w, b, yp, ix, ws)
				idx = make([]float32, pooled)
				for i, v := range ix {
					idx[i] = float32(v)
				}
			}
			return [4][]float32{y, yr, yp, idx}
		}
		want := run(directNever, 1, 0)
		for _, threads := range []int{1, 2, 4} {
			for _, chunk := range []int{0, 1, 2} {
				got := run(directAlways, threads, chunk)
				for i, name := range []string{"y", "relu", "pooled", "idx"} {
					if got[i] == nil {
						continue // chunks of one image do not pool
					}
					if k := firstBitDiff(got[i], want[i]); k >= 0 {
						t.Fatalf("%s %+v, %d threads, chunk %d: direct %s[%d] = %g, GEMM %g",
							tc.name, p, threads, chunk, name, k, got[i][k], want[i][k])
					}
				}
			}
		}
	}
	if ran < 10 {
		t.Errorf("only %d cases took the direct path", ran)
	}
}

// TestDirectForwardChoice pins which layers go direct by default: the
// seed CNN's and LeNet-5's first layers (few taps, wide rows), not their
// second (too narrow) nor strided ones.
func TestDirectForwardChoice(t *testing.T) {
	if kernels.DirectConvTaps() == 0 {
		t.Skip("the direct path needs the AVX-512 GEMM kernel; this CPU runs " + kernels.GemmKernelName())
	}
	for _, c := range []struct {
		name string
		p    Conv2dParams
		want bool
	}{
		{"seed-cnn conv1", cp(32, 3, 32, 32, 32, 5, 5), true},
		{"seed-cnn conv2", cp(32, 32, 14, 14, 64, 5, 5), false},
		{"lenet5 conv1", cp(8, 1, 28, 28, 6, 5, 5, pad(2, 2)), true},
		{"resnet stem", cp(4, 3, 32, 32, 16, 3, 3, pad(1, 1)), true},
		{"strided", cp(4, 16, 32, 32, 32, 3, 3, stride(2, 2), pad(1, 1)), false},
		{"too many taps", cp(4, 64, 32, 32, 64, 3, 3, pad(1, 1)), false},
	} {
		if got := directForward(&c.p); got != c.want {
			t.Errorf("%s: direct %v, want %v", c.name, got, c.want)
		}
	}
}
