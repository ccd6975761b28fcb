package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// implicitCases are the convolutions of the models kiln ships: the seed
// CNN's two layers at batch 32, lenet5's (the first padded), the CIFAR
// resnet's 3x3 (plain and strided) and 1x1 downsampling layers, plus a
// grouped layer and a pointwise one that chunks several images.
var implicitCases = []struct {
	name string
	p    Conv2dParams
}{
	{"seed-cnn conv1", cp(32, 3, 32, 32, 32, 5, 5)},
	{"seed-cnn conv2", cp(32, 32, 14, 14, 64, 5, 5)},
	{"lenet5 conv1", cp(8, 1, 28, 28, 6, 5, 5, pad(2, 2))},
	{"lenet5 conv2", cp(8, 6, 14, 14, 16, 5, 5)},
	{"resnet stem 3x3", cp(4, 3, 32, 32, 16, 3, 3, pad(1, 1))},
	{"resnet 3x3 stride 2", cp(4, 16, 32, 32, 32, 3, 3, stride(2, 2), pad(1, 1))},
	{"resnet 3x3", cp(4, 64, 8, 8, 64, 3, 3, pad(1, 1))},
	{"resnet 1x1 stride 2", cp(4, 16, 32, 32, 32, 1, 1, stride(2, 2))},
	{"grouped dilated", cp(6, 8, 12, 12, 12, 3, 3, pad(2, 2), dil(2, 2), groups(4))},
	{"pointwise chunked", cp(12, 16, 6, 6, 8, 1, 1)},
}

// TestImplicitGEMMBitIdentical runs the forward pass (with bias and ReLU)
// and the weight gradient with the GEMM panels packed from the images, on
// 1 to 7 goroutines, and requires the bits of the path that writes the
// column matrix first, on one goroutine. The packed panels hold the same
// values in the same order, so the sums cannot differ.
func TestImplicitGEMMBitIdentical(t *testing.T) {
	defer kernels.SetThreads(kernels.ThreadSetting())
	defer func(v int) { implicitGEMM = v }(implicitGEMM)
	r := rand.New(rand.NewPCG(31, 0))
	threads := []int{1, 2, 3, 4, 5, 6, 7}
	if testing.Short() {
		threads = []int{1, 3}
	}
	for _, tc := range implicitCases {
		p := tc.p
		x := randF32(r, p.N*p.C*p.H*p.W)
		w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		b := randF32(r, p.OutC)
		dy := randF32(r, p.N*p.OutC*p.OutH()*p.OutW())
		run := func(mode, n int) [3][]float32 {
			implicitGEMM = mode
			kernels.SetThreads(n)
			ws := make([]float32, p.WorkspaceLen())
			y, dw, db := make([]float32, len(dy)), make([]float32, len(w)), make([]float32, len(b))
			Conv2dForwardReLU(p, x, w, b, y, ws)
			Conv2dBackwardWeight(p, x, dy, dw, db, ws)
			return [3][]float32{y, dw, db}
		}
		want := run(implicitNever, 1)
		for _, n := range threads {
			got := run(implicitAlways, n)
			for i, name := range []string{"y", "dw", "db"} {
				if k := firstBitDiff(got[i], want[i]); k >= 0 {
					t.Errorf("%s %+v, %d threads: implicit %s[%d] = %g, materialised %g",
						tc.name, p, n, name, k, got[i][k], want[i][k])
				}
			}
		}
	}
}

// firstBitDiff returns the first index where a and b differ in their bits,
// or -1.
func firstBitDiff(a, b []float32) int {
	if len(a) != len(b) {
		panic(fmt.Sprintf("lengths %d and %d", len(a), len(b)))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}
