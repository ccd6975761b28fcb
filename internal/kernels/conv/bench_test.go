package conv

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// The seed CNN's layers: conv1 is 3->32 channels 5x5 on 32x32, conv2 32->64
// 5x5 on 14x14, each followed by a 2x2 max pool; batch 32.
var (
	benchConv1 = cp(32, 3, 32, 32, 32, 5, 5)
	benchConv2 = cp(32, 32, 14, 14, 64, 5, 5)
)

func benchConv(b *testing.B, p Conv2dParams, pass string) {
	r := rand.New(rand.NewPCG(10, 0))
	x := randF32(r, p.N*p.C*p.H*p.W)
	w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
	bias := randF32(r, p.OutC)
	y := randF32(r, p.N*p.OutC*p.OutH()*p.OutW())
	ws := make([]float32, p.WorkspaceLen())
	dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(bias))
	flops := 2 * float64(p.N*p.OutC*p.OutH()*p.OutW()*(p.C/p.Groups)*p.KH*p.KW)
	b.ResetTimer()
	for b.Loop() {
		switch pass {
		case "forward":
			Conv2dForward(p, x, w, bias, y, ws)
		case "forward-relu":
			Conv2dForwardReLU(p, x, w, bias, y, ws)
		case "backward-data":
			Conv2dBackwardData(p, y, w, dx, ws)
		case "backward-weight":
			Conv2dBackwardWeight(p, x, y, dw, db, ws)
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(flops*float64(b.N)/sec/1e9, "GFLOP/s")
	b.ReportMetric(float64(p.N*b.N)/sec, "images/s")
}

func BenchmarkConv1(b *testing.B) {
	for _, pass := range []string{"forward", "forward-relu", "backward-data", "backward-weight"} {
		b.Run(pass, func(b *testing.B) { benchConv(b, benchConv1, pass) })
	}
}

func BenchmarkConv2(b *testing.B) {
	for _, pass := range []string{"forward", "forward-relu", "backward-data", "backward-weight"} {
		b.Run(pass, func(b *testing.B) { benchConv(b, benchConv2, pass) })
	}
}

func benchMaxPool(b *testing.B, p MaxPool2dParams) {
	r := rand.New(rand.NewPCG(11, 0))
	x := randF32(r, p.N*p.C*p.H*p.W)
	y := make([]float32, p.N*p.C*p.OutH()*p.OutW())
	idx := make([]int32, len(y))
	dx := make([]float32, len(x))
	MaxPool2dForward(p, x, y, idx)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			MaxPool2dForward(p, x, y, idx)
		}
		b.ReportMetric(float64(p.N*b.N)/b.Elapsed().Seconds(), "images/s")
		b.ReportMetric(float64(4*(len(x)+2*len(y))*b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			MaxPool2dBackward(p, y, idx, dx)
		}
		b.ReportMetric(float64(p.N*b.N)/b.Elapsed().Seconds(), "images/s")
		b.ReportMetric(float64(4*(2*len(x)+2*len(y))*b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	// What a fresh gradient costs: cleared, then routed; or written whole.
	b.Run("backward-cleared", func(b *testing.B) {
		for b.Loop() {
			kernels.Zero(dx)
			MaxPool2dBackward(p, y, idx, dx)
		}
		b.ReportMetric(float64(p.N*b.N)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("backward-into", func(b *testing.B) {
		for b.Loop() {
			MaxPool2dBackwardInto(p, y, idx, dx)
		}
		b.ReportMetric(float64(p.N*b.N)/b.Elapsed().Seconds(), "images/s")
	})
}

func BenchmarkMaxPool1(b *testing.B) {
	benchMaxPool(b, mp(32, 32, 28, 28, 2, 2, 2, 2, 0, 0, 1, 1, false))
}
func BenchmarkMaxPool2(b *testing.B) {
	benchMaxPool(b, mp(32, 64, 10, 10, 2, 2, 2, 2, 0, 0, 1, 1, false))
}

// BenchmarkConvLowering times the passes whose GEMMs can pack their panels
// from the images, with the column matrix written first (materialised) and
// without (implicit), for side-by-side ratios in one run.
func BenchmarkConvLowering(b *testing.B) {
	defer func(v int) { implicitGEMM = v }(implicitGEMM)
	for _, layer := range []struct {
		name string
		p    Conv2dParams
	}{{"conv1", benchConv1}, {"conv2", benchConv2}} {
		for _, pass := range []string{"forward-relu", "backward-weight"} {
			for _, mode := range []string{"materialised", "implicit"} {
				b.Run(layer.name+"/"+pass+"/"+mode, func(b *testing.B) {
					implicitGEMM = implicitNever
					if mode == "implicit" {
						implicitGEMM = implicitAlways
					}
					benchConv(b, layer.p, pass)
				})
			}
		}
	}
}

// BenchmarkConvDirect times the forward passes that can go direct, on the
// direct path and on the GEMM path (packed from the images), for
// side-by-side ratios in one run: the seed CNN's conv1, LeNet-5's and a
// CIFAR ResNet's padded 3x3 stem.
func BenchmarkConvDirect(b *testing.B) {
	defer func(v int) { directConv = v }(directConv)
	for _, layer := range []struct {
		name string
		p    Conv2dParams
	}{
		{"conv1", benchConv1},
		{"lenet5-conv1", cp(32, 1, 28, 28, 6, 5, 5, pad(2, 2))},
		{"resnet-stem", cp(32, 3, 32, 32, 16, 3, 3, pad(1, 1))},
		{"lenet5-conv2", cp(32, 6, 14, 14, 16, 5, 5)},
	} {
		for _, mode := range []string{"gemm", "direct"} {
			b.Run(layer.name+"/"+mode, func(b *testing.B) {
				directConv = directNever
				if mode == "direct" {
					directConv = directAlways
				}
				benchConv(b, layer.p, "forward-relu")
			})
		}
	}
}

// BenchmarkResNetLayers times the CIFAR ResNet's 3x3 convolutions (padded
// by 1; the stride-2 ones open a stage) at batch 32.
func BenchmarkResNetLayers(b *testing.B) {
	for _, layer := range []struct {
		name string
		p    Conv2dParams
	}{
		{"16x32x32", cp(32, 16, 32, 32, 16, 3, 3, pad(1, 1))},
		{"32x16x16", cp(32, 32, 16, 16, 32, 3, 3, pad(1, 1))},
		{"64x8x8", cp(32, 64, 8, 8, 64, 3, 3, pad(1, 1))},
		{"16to32-stride2", cp(32, 16, 32, 32, 32, 3, 3, stride(2, 2), pad(1, 1))},
	} {
		for _, pass := range []string{"forward", "backward-data", "backward-weight"} {
			b.Run(layer.name+"/"+pass, func(b *testing.B) { benchConv(b, layer.p, pass) })
		}
	}
}
