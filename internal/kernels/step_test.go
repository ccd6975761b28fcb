package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// specials are the values where the kernels' rules matter: signed zeros,
// infinities, NaNs (quiet, signalling, negative), the largest and
// smallest normals and a subnormal.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc00000), math.MaxFloat32,
	-math.MaxFloat32, math.SmallestNonzeroFloat32, 1.17549435e-38}

// stepData returns n values: mostly normal random numbers, with specials
// and duplicates (ties for max pooling) sprinkled in.
func stepData(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch k := r.IntN(10); {
		case k == 0:
			x[i] = specials[r.IntN(len(specials))]
		case k == 1 && i > 0:
			x[i] = x[i-1]
		default:
			x[i] = float32(r.NormFloat64())
		}
	}
	return x
}

// sameBits requires equal bits, except that with anyNaN two NaNs match:
// where two NaNs meet in an arithmetic kernel, which one comes out depends
// on the operand order, which Go leaves to the compiler.
func sameBits(t *testing.T, what string, got, want []float32, anyNaN bool) {
	t.Helper()
	for i := range want {
		if anyNaN && got[i] != got[i] && want[i] != want[i] {
			continue
		}
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d is %v (%#08x), the Go loop gives %v (%#08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestStepKernelsMatchGo runs every training-step kernel, assembly where
// the CPU has it, against its Go loop on lengths around the vector width,
// special values included, and requires the same bits.
func TestStepKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 70; n++ {
		y, dy := stepData(r, n), stepData(r, n)
		want := append([]float32(nil), dy...)
		reluMaskGo(y, want)
		got := append([]float32(nil), dy...)
		ReLUMask(y, got)
		sameBits(t, "ReLUMask", got, want, false)

		for _, relu := range []bool{false, true} {
			// Not a NaN bias: where two NaNs meet, which one an add
			// returns depends on its operand order, which Go leaves to
			// the compiler.
			b := specials[r.IntN(6)]
			if r.IntN(2) == 0 {
				b = float32(r.NormFloat64())
			}
			want := make([]float32, n)
			biasEpilogueGo(want, y, b, relu)
			got := make([]float32, n)
			BiasEpilogue(got, y, b, relu)
			sameBits(t, "BiasEpilogue", got, want, false)
		}

		for _, mode := range []AdamMode{AdamPlain, AdamL2, AdamDecoupled} {
			c := &AdamCoef{B1: 0.9, B2: 0.999, C1: float32(1 - 0.9), C2: float32(1 - 0.999), BC2Sqrt: 0.0447, NegStep: -0.0123,
				Eps: 1e-8, WD: 0.01, Decay: 0.99999}
			p, g := stepData(r, n), stepData(r, n)
			m, v := stepData(r, n), make([]float32, n)
			for i := range v {
				v[i] = float32(math.Abs(r.NormFloat64()))
			}
			wp, wm, wv := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
			adamStepGo(mode, wp, g, wm, wv, c)
			AdamStep(mode, p, g, m, v, c)
			sameBits(t, "AdamStep p", p, wp, true)
			sameBits(t, "AdamStep m", m, wm, true)
			sameBits(t, "AdamStep v", v, wv, true)
		}
	}
	for n := 0; n < 70; n++ {
		for _, c := range []SGDCoef{
			{LR: 0.1},
			{LR: 0.05, WD: 1e-4},
			{LR: 0.05, WD: 1e-4, Momentum: 0.9, Damp: 1, First: true},
			{LR: 0.05, Momentum: 0.9, Damp: 0.5},
			{LR: 0.05, WD: 5e-4, Momentum: 0.9, Damp: 1, Nesterov: true},
		} {
			p, g, buf := stepData(r, n), stepData(r, n), stepData(r, n)
			wp, wb := append([]float32(nil), p...), append([]float32(nil), buf...)
			wbuf := wb
			if c.Momentum == 0 {
				wbuf = wp
			}
			sgdStepGo(wp, g, wbuf, &c)
			SGDStep(p, g, buf, &c)
			sameBits(t, "SGDStep p", p, wp, true)
			sameBits(t, "SGDStep buf", buf, wb, true)
		}
	}
	for ow := 0; ow < 40; ow++ {
		for _, planeRows := range []int{1, 3} {
			for _, planes := range []int{1, 2} {
				rows, w := planes*planeRows, 2*ow+r.IntN(3)
				if w == 0 {
					w = 2
				}
				x := stepData(r, 2*rows*w)
				wy, wi := make([]float32, rows*ow), make([]int32, rows*ow)
				maxPool2x2Go(x, wy, wi, rows, planeRows, ow, w)
				gy, gi := make([]float32, rows*ow+1), make([]int32, rows*ow+1)
				gy[rows*ow], gi[rows*ow] = -7, -7 // past the last row: must stay
				MaxPool2x2(x, gy, gi, rows, planeRows, ow, w)
				what := fmt.Sprintf("MaxPool2x2, %d planes of %d rows of %d outputs", planes, planeRows, ow)
				sameBits(t, what, gy[:rows*ow], wy, false)
				for j := range wi {
					if gi[j] != wi[j] {
						t.Fatalf("%s: index %d is %d, the Go loop gives %d", what, j, gi[j], wi[j])
					}
				}
				if gy[rows*ow] != -7 || gi[rows*ow] != -7 {
					t.Fatalf("%s: wrote past the last row", what)
				}
			}
		}
	}
}

// TestMaxPool2x2RowRules checks the Go loop itself against PyTorch's rules
// on hand-picked windows: the earliest of equal maxima wins, NaN beats
// everything, a later NaN beats an earlier one, and -0 ties +0.
func TestMaxPool2x2RowRules(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	for _, tc := range []struct {
		r0, r1 [2]float32
		want   int32 // tap 0..3
	}{
		{[2]float32{1, 1}, [2]float32{1, 1}, 0},
		{[2]float32{1, 2}, [2]float32{2, 0}, 1},
		{[2]float32{1, 2}, [2]float32{3, 3}, 2},
		{[2]float32{nan, inf}, [2]float32{inf, 5}, 0},
		{[2]float32{nan, 1}, [2]float32{nan, 0}, 2},
		{[2]float32{negZero, 0}, [2]float32{-1, -2}, 0},
		{[2]float32{-inf, -inf}, [2]float32{-inf, -inf}, 0},
	} {
		x := make([]float32, 12) // a 10-wide plane: the window's rows at 0 and 10
		copy(x, tc.r0[:])
		copy(x[10:], tc.r1[:])
		for _, f := range []func(x, y []float32, idx []int32, rows, planeRows, ow, w int){maxPool2x2Go, MaxPool2x2} {
			y, idx := make([]float32, 1), make([]int32, 1)
			f(x, y, idx, 1, 1, 1, 10)
			want := []int32{0, 1, 10, 11}[tc.want]
			if idx[0] != want {
				t.Errorf("window %v %v: index %d, want %d", tc.r0, tc.r1, idx[0], want)
			}
		}
	}
}

// TestRowsMatchGo copies and adds rows of every length around the vector
// width at several strides (and rows that follow on in dst) and requires
// the Go loop's bits, and nothing written between the rows or planes.
func TestRowsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 40; n++ {
		for _, rows := range []int{0, 1, 3} {
			for _, planes := range []int{1, 2, 5, -1} {
				ds, ss := n+r.IntN(5), n+r.IntN(5)
				if planes < 0 { // rows that follow on in dst
					planes, ds = 2, n
				}
				dp, sp := rows*ds+r.IntN(4), rows*ss+r.IntN(4)
				src := stepData(r, planes*sp+1)
				for _, add := range []bool{false, true} {
					dst := stepData(r, planes*dp+1)
					want := append([]float32(nil), dst...)
					moveRowsGo(want, src, n, rows, ds, ss, planes, dp, sp, add)
					switch {
					case add && planes == 1:
						AddRows(dst, src, n, rows, ds, ss)
					case planes == 1:
						CopyRows(dst, src, n, rows, ds, ss)
					case add:
						AddPlaneRows(dst, src, n, rows, ds, ss, planes, dp, sp)
					default:
						CopyPlaneRows(dst, src, n, rows, ds, ss, planes, dp, sp)
					}
					sameBits(t, "rows", dst, want, add)
				}
			}
		}
	}
}

// BenchmarkCol2imRows adds rows as col2im does for the seed CNN's conv2 (one
// image: 25 taps of 32 channels of 10 rows of 10 floats, into 14-wide
// planes), and the same rows 30 floats apart. A row's stores must not slow
// the next row's loads: "adjacent" ran 3.8x slower than "apart" while the
// tail was one masked 64-byte vector (docs/PERFORMANCE.md).
func BenchmarkCol2imRows(b *testing.B) {
	for _, bc := range []struct {
		name   string
		stride int
	}{{"adjacent", 14}, {"apart", 30}} {
		b.Run(bc.name, func(b *testing.B) {
			plane := bc.stride * 14
			dst := make([]float32, 32*plane)
			src := make([]float32, 800*100)
			for b.Loop() {
				for t := range 25 {
					i, j := t/5, t%5
					AddPlaneRows(dst[i*bc.stride+j:], src[t*100:], 10, 10, bc.stride, 10, 32, plane, 25*100)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/8000, "ns/row")
		})
	}
}

// TestMaxPool2x2Back routes gradients of every row length around the
// vector width, at several plane widths and over several planes, through
// MaxPool2x2Back and requires the bits of clearing the windows and adding
// each gradient to its tap (specials and -0 included), and nothing
// written outside the windows.
func TestMaxPool2x2Back(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for ow := 1; ow < 40; ow++ {
		for _, planeRows := range []int{1, 2, 5} {
			for _, planes := range []int{1, 3} {
				for _, w := range []int{2 * ow, 2*ow + 1, 2*ow + 3} {
					testMaxPool2x2Back(t, r, planes, planeRows, ow, w)
				}
			}
		}
	}
}

func testMaxPool2x2Back(t *testing.T, r *rand.Rand, planes, planeRows, ow, w int) {
	t.Helper()
	rows := planes * planeRows
	dy := stepData(r, rows*ow)
	dy[0] = float32(math.Copysign(0, -1))
	idx := make([]int32, rows*ow)
	for i := range rows {
		for j := range ow {
			tap := r.IntN(4)
			idx[i*ow+j] = int32(2*(i%planeRows)*w + 2*j + tap%2 + tap/2*w)
		}
	}
	n := 2*rows*w + 5
	want := make([]float32, n)
	for k := range want {
		want[k] = -7.25 // outside the windows: left alone
	}
	for i := range rows {
		clear(want[2*i*w : 2*i*w+2*ow])
		clear(want[(2*i+1)*w : (2*i+1)*w+2*ow])
	}
	for k, g := range dy {
		want[(k/ow/planeRows)*2*planeRows*w+int(idx[k])] += g
	}
	got := slices.Clone(want)
	for i := range rows { // poison what must be written
		for c := range 2 * ow {
			got[2*i*w+c], got[(2*i+1)*w+c] = float32(math.NaN()), float32(math.NaN())
		}
	}
	goGot := slices.Clone(got)
	what := fmt.Sprintf("%d planes of %d rows of %d outputs, width %d", planes, planeRows, ow, w)
	MaxPool2x2Back(dy, idx, got, rows, planeRows, ow, w)
	sameBits(t, what, got, want, false)
	maxPool2x2BackGo(dy, idx, goGot[:(2*rows-1)*w+2*ow], rows, planeRows, ow, w)
	sameBits(t, "Go loop: "+what, goGot, want, false)
}
