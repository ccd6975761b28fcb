package conv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/internal/kernels"
)

func mp(n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int, ceil bool) MaxPool2dParams {
	return MaxPool2dParams{N: n, C: c, H: h, W: w, KH: kh, KW: kw, StrideH: sh, StrideW: sw,
		PadH: ph, PadW: pw, DilH: dh, DilW: dw, CeilMode: ceil}
}

var maxPoolCases = []struct {
	name string
	p    MaxPool2dParams
}{
	{"2x2 even (fast)", mp(3, 2, 8, 6, 2, 2, 2, 2, 0, 0, 1, 1, false)},
	{"2x2 odd floor (fast)", mp(2, 3, 7, 9, 2, 2, 2, 2, 0, 0, 1, 1, false)},
	{"2x2 odd ceil", mp(2, 3, 7, 9, 2, 2, 2, 2, 0, 0, 1, 1, true)},
	{"2x2 pad1 ceil drops last", mp(1, 2, 3, 5, 2, 2, 2, 2, 1, 1, 1, 1, true)},
	{"3x3 s2 p1", mp(3, 2, 9, 10, 3, 3, 2, 2, 1, 1, 1, 1, false)},
	{"3x3 s1 p1", mp(1, 2, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, false)},
	{"3x3 s2 ceil", mp(2, 2, 10, 11, 3, 3, 2, 2, 0, 0, 1, 1, true)},
	{"3x3 s3 ceil", mp(2, 1, 7, 8, 3, 3, 3, 3, 0, 0, 1, 1, true)},
	{"dilation2 pad1", mp(2, 2, 9, 8, 3, 3, 2, 1, 1, 1, 2, 2, false)},
	{"2x2 s2 dilation2 (not the fast path)", mp(2, 2, 9, 10, 2, 2, 2, 2, 0, 0, 2, 2, false)},
	{"dilation2 pad1 ceil", mp(2, 2, 10, 9, 3, 2, 2, 2, 1, 1, 2, 3, true)},
	{"non-square", mp(3, 2, 6, 11, 2, 3, 1, 2, 1, 1, 1, 1, false)},
	{"kernel 1", mp(1, 3, 4, 5, 1, 1, 2, 2, 0, 0, 1, 1, false)},
	{"whole plane", mp(2, 3, 4, 5, 4, 5, 1, 1, 2, 2, 1, 1, false)},
}

func TestMaxPool2d(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 0))
	for _, c := range maxPoolCases {
		p := c.p
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		x := randF32(r, p.N*p.C*p.H*p.W)
		want, wantIdx := refMaxPool(p, f64(x))
		y := filled(len(want), float32(math.NaN()))
		idx := make([]int32, len(want))
		for i := range idx {
			idx[i] = -7
		}
		MaxPool2dForward(p, x, y, idx)
		assertClose(t, c.name+" y", y, want, 0)
		for i := range idx {
			if idx[i] != wantIdx[i] {
				t.Fatalf("%s: idx[%d] = %d, want %d", c.name, i, idx[i], wantIdx[i])
			}
		}
		dy := randF32(r, len(y))
		dx0 := randF32(r, len(x))
		wantDx := f64(dx0)
		hw, ohw := p.H*p.W, p.OutH()*p.OutW()
		for i, g := range dy {
			wantDx[(i/ohw)*hw+int(wantIdx[i])] += float64(g)
		}
		dx := append([]float32(nil), dx0...)
		MaxPool2dBackward(p, dy, idx, dx)
		assertClose(t, c.name+" dx", dx, wantDx, 1e-6)
		// Into a buffer of garbage: the bits of clearing and accumulating.
		dy[0] = float32(math.Copysign(0, -1))
		clear(dx)
		MaxPool2dBackward(p, dy, idx, dx)
		into := filled(len(x), float32(math.NaN()))
		MaxPool2dBackwardInto(p, dy, idx, into)
		for i := range dx {
			if math.Float32bits(into[i]) != math.Float32bits(dx[i]) {
				t.Fatalf("%s: MaxPool2dBackwardInto dx[%d] = %v, cleared and accumulated %v", c.name, i, into[i], dx[i])
			}
		}
	}
}

// TestMaxPool2dSpecialValues pins PyTorch's NaN and -Inf rules on both the
// fast and the general path.
func TestMaxPool2dSpecialValues(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	x := []float32{
		inf, inf, 1, nan,
		inf, inf, nan, 2,
		3, 5, -1, -2,
		5, 4, -3, -4,
	}
	negZero := float32(math.Copysign(0, -1))
	// A 2x2 stride-2 pool of a 4x4 plane takes the fast path; the general
	// loop is called directly for comparison.
	p := mp(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, false)
	y, idx := make([]float32, 4), make([]int32, 4)
	MaxPool2dForward(p, x, y, idx)
	if y[0] != inf || idx[0] != 0 {
		t.Errorf("all -Inf window: got %v at %d, want -Inf at 0", y[0], idx[0])
	}
	if y[1] == y[1] || idx[1] != 6 {
		t.Errorf("NaN window: got %v at %d, want NaN at 6 (the last NaN)", y[1], idx[1])
	}
	if y[2] != 5 || idx[2] != 9 {
		t.Errorf("tie: got %v at %d, want 5 at 9 (the first maximum)", y[2], idx[2])
	}
	if y[3] != -1 || idx[3] != 10 {
		t.Errorf("negatives: got %v at %d, want -1 at 10", y[3], idx[3])
	}
	// Signed zeros compare equal, so the first one wins, sign and all.
	z := []float32{-1, negZero, 0, -1, -1, -1, -1, -1, -1}
	zp := mp(1, 1, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, false)
	zy, zi := make([]float32, 4), make([]int32, 4)
	MaxPool2dForward(zp, z, zy, zi)
	if zi[0] != 0 || zi[1] != 1 || math.Signbit(float64(zy[1])) != true {
		t.Errorf("signed zeros: got %v at %v, want -0 at index 1 in the second window", zy, zi)
	}
	y2, idx2 := make([]float32, 4), make([]int32, 4)
	maxPoolPlane(&p, x, y2, idx2)
	for i := range idx {
		if idx[i] != idx2[i] || !(y[i] == y2[i] || (y[i] != y[i] && y2[i] != y2[i])) {
			t.Errorf("fast and general paths differ at %d: %v@%d vs %v@%d", i, y[i], idx[i], y2[i], idx2[i])
		}
	}
}

func ap(n, c, h, w, k, s, pd int, ceil, exclude bool, div int) AvgPool2dParams {
	return AvgPool2dParams{N: n, C: c, H: h, W: w, KH: k, KW: k, StrideH: s, StrideW: s,
		PadH: pd, PadW: pd, CeilMode: ceil, ExcludePad: exclude, DivisorOverride: div}
}

var avgPoolCases = []struct {
	name string
	p    AvgPool2dParams
}{
	{"2x2", ap(3, 2, 8, 6, 2, 2, 0, false, false, 0)},
	{"2x2 odd floor", ap(2, 2, 7, 9, 2, 2, 0, false, false, 0)},
	{"2x2 odd ceil", ap(2, 2, 7, 9, 2, 2, 0, true, false, 0)},
	{"3x3 s2 p1 include pad", ap(2, 3, 9, 8, 3, 2, 1, false, false, 0)},
	{"3x3 s2 p1 exclude pad", ap(2, 3, 9, 8, 3, 2, 1, false, true, 0)},
	{"3x3 s2 p1 ceil include pad", ap(1, 2, 6, 7, 3, 2, 1, true, false, 0)},
	{"3x3 s2 p1 ceil exclude pad", ap(1, 2, 6, 7, 3, 2, 1, true, true, 0)},
	{"3x3 s1 p1 divisor override", ap(2, 2, 5, 5, 3, 1, 1, false, false, 7)},
	{"4x4 s3 p2 ceil", ap(1, 2, 10, 11, 4, 3, 2, true, false, 0)},
	{"non-square", AvgPool2dParams{N: 3, C: 2, H: 7, W: 10, KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadH: 1, PadW: 1}},
}

func TestAvgPool2d(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 0))
	for _, c := range avgPoolCases {
		p := c.p
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		x := randF32(r, p.N*p.C*p.H*p.W)
		want, _ := refAvgPool(p, f64(x))
		y := filled(len(want), float32(math.NaN()))
		AvgPool2dForward(p, x, y)
		assertClose(t, c.name+" y", y, want, 1e-6)

		dy := randF32(r, len(y))
		dx0 := randF32(r, len(x))
		wantDx := refAvgPoolBackward(p, f64(dy))
		for i := range wantDx {
			wantDx[i] += float64(dx0[i])
		}
		dx := append([]float32(nil), dx0...)
		AvgPool2dBackward(p, dy, dx)
		assertClose(t, c.name+" dx", dx, wantDx, 1e-6)
	}
}

// TestAvgPool2dDivisors pins the divisor rules on one 3x3 plane of ones,
// padded by 1 and pooled 2x2 at stride 2 in ceil mode: the corner window
// holds one real tap and three padded ones, the last window one real tap,
// one padded tap and two taps past the padding.
func TestAvgPool2dDivisors(t *testing.T) {
	x := filled(9, 1)
	for _, c := range []struct {
		name    string
		exclude bool
		div     int
		want    []float32
	}{
		{"include pad", false, 0, []float32{0.25, 0.5, 0.5, 1}},
		{"exclude pad", true, 0, []float32{1, 1, 1, 1}},
		{"override", false, 2, []float32{0.5, 1, 1, 2}},
	} {
		p := AvgPool2dParams{N: 1, C: 1, H: 3, W: 3, KH: 2, KW: 2, StrideH: 2, StrideW: 2,
			PadH: 1, PadW: 1, CeilMode: true, ExcludePad: c.exclude, DivisorOverride: c.div}
		if p.OutH() != 2 || p.OutW() != 2 {
			t.Fatalf("output %dx%d, want 2x2", p.OutH(), p.OutW())
		}
		y := make([]float32, 4)
		AvgPool2dForward(p, x, y)
		for i := range y {
			if y[i] != c.want[i] {
				t.Errorf("%s: y = %v, want %v", c.name, y, c.want)
				break
			}
		}
	}
}

func TestAdaptiveAvgPool2d(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 0))
	for _, p := range []AdaptiveAvgPool2dParams{
		{N: 2, C: 3, H: 7, W: 9, OutH: 3, OutW: 4},
		{N: 3, C: 2, H: 5, W: 5, OutH: 1, OutW: 1},
		{N: 1, C: 2, H: 4, W: 3, OutH: 8, OutW: 7},
		{N: 2, C: 2, H: 6, W: 6, OutH: 6, OutW: 6},
		{N: 2, C: 1, H: 10, W: 7, OutH: 3, OutW: 2},
	} {
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		x := randF32(r, p.N*p.C*p.H*p.W)
		dy := randF32(r, p.N*p.C*p.OutH*p.OutW)
		want, wantDx := refAdaptive(p, f64(x), f64(dy))
		y := filled(len(want), float32(math.NaN()))
		AdaptiveAvgPool2dForward(p, x, y)
		assertClose(t, "adaptive y", y, want, 1e-6)
		dx0 := randF32(r, len(x))
		for i := range wantDx {
			wantDx[i] += float64(dx0[i])
		}
		dx := append([]float32(nil), dx0...)
		AdaptiveAvgPool2dBackward(p, dy, dx)
		assertClose(t, "adaptive dx", dx, wantDx, 1e-6)
	}
}

func TestPoolValidate(t *testing.T) {
	okMax := mp(1, 1, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, false)
	if err := okMax.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*MaxPool2dParams){
		"zero stride":          func(p *MaxPool2dParams) { p.StrideH = 0 },
		"zero dilation":        func(p *MaxPool2dParams) { p.DilW = 0 },
		"pad over half kernel": func(p *MaxPool2dParams) { p.PadW = 2 },
		"negative pad":         func(p *MaxPool2dParams) { p.PadH = -1 },
		"zero kernel":          func(p *MaxPool2dParams) { p.KH = 0 },
		"empty output":         func(p *MaxPool2dParams) { p.H, p.PadH, p.KH = 2, 0, 3 },
		"empty batch":          func(p *MaxPool2dParams) { p.N = 0 },
	} {
		p := okMax
		edit(&p)
		if p.Validate() == nil {
			t.Errorf("max pool %s: %+v accepted", name, p)
		}
	}
	okAvg := ap(1, 1, 6, 6, 3, 2, 1, false, false, 0)
	if err := okAvg.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*AvgPool2dParams){
		"pad over half kernel": func(p *AvgPool2dParams) { p.PadH = 2 },
		"zero stride":          func(p *AvgPool2dParams) { p.StrideW = 0 },
		"empty output":         func(p *AvgPool2dParams) { p.W, p.PadW, p.KW = 2, 0, 3 },
	} {
		p := okAvg
		edit(&p)
		if p.Validate() == nil {
			t.Errorf("avg pool %s: %+v accepted", name, p)
		}
	}
	if (AdaptiveAvgPool2dParams{N: 1, C: 1, H: 3, W: 3, OutH: 0, OutW: 1}).Validate() == nil {
		t.Error("adaptive pool to 0x1 accepted")
	}
}

// TestMaxPool2dSpecialPlanes runs every max-pool case on inputs of -Inf with
// scattered NaNs and ties, where only the tap order decides the index.
func TestMaxPool2dSpecialPlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 0))
	for _, c := range maxPoolCases {
		p := c.p
		x := filled(p.N*p.C*p.H*p.W, float32(math.Inf(-1)))
		for i := range x {
			switch r.IntN(6) {
			case 0:
				x[i] = float32(math.NaN())
			case 1:
				x[i] = 1
			}
		}
		want, wantIdx := refMaxPool(p, f64(x))
		y, idx := make([]float32, len(want)), make([]int32, len(want))
		MaxPool2dForward(p, x, y, idx)
		for i := range y {
			same := float64(y[i]) == want[i] || (y[i] != y[i] && math.IsNaN(want[i]))
			if !same || idx[i] != wantIdx[i] {
				t.Fatalf("%s: output %d = %v at %d, want %v at %d", c.name, i, y[i], idx[i], want[i], wantIdx[i])
			}
		}
	}
}

// TestConv2dBackwardPooled checks the data and weight gradients that
// route each chunk's output gradient from the pooled one against
// unpooling the whole gradient and the plain kernels, to the bit, on 1 to
// 3 goroutines, with odd outputs (a row and a column no window covers).
func TestConv2dBackwardPooled(t *testing.T) {
	defer kernels.SetThreads(kernels.ThreadSetting())
	r := rand.New(rand.NewPCG(41, 0))
	for _, p := range []Conv2dParams{
		cp(32, 3, 32, 32, 32, 5, 5),          // the seed CNN's conv1
		cp(7, 2, 12, 11, 9, 3, 2, pad(1, 0)), // odd output, padded, 9 channels
		cp(5, 4, 9, 9, 6, 3, 3, groups(2)),
	} {
		if !p.CanPool() {
			t.Fatalf("%+v: CanPool false", p)
		}
		oh, ow := p.OutH(), p.OutW()
		n := p.N * p.OutC * (oh / 2) * (ow / 2)
		x := randF32(r, p.N*p.C*p.H*p.W)
		w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		b := randF32(r, p.OutC)
		yp, idx := make([]float32, n), make([]int32, n)
		Conv2dForwardReLUPool(p, x, w, b, yp, idx, make([]float32, p.WorkspaceLen()))
		dyp := randF32(r, n)
		mp := MaxPool2dParams{N: p.N, C: p.OutC, H: oh, W: ow, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1}
		dy := make([]float32, p.N*p.OutC*oh*ow)
		MaxPool2dBackwardInto(mp, dyp, idx, dy)
		wantW, wantB := make([]float32, len(w)), make([]float32, len(b))
		Conv2dBackwardWeight(p, x, dy, wantW, wantB, make([]float32, p.WorkspaceLen()))
		wantX := make([]float32, len(x))
		Conv2dBackwardData(p, dy, w, wantX, make([]float32, p.WorkspaceLen()))
		for _, threads := range []int{1, 2, 3} {
			kernels.SetThreads(threads)
			gotW, gotB := make([]float32, len(w)), make([]float32, len(b))
			Conv2dBackwardWeightPooled(p, x, dyp, idx, gotW, gotB, make([]float32, p.WorkspaceLen()))
			if k := firstBitDiff(gotW, wantW); k >= 0 {
				t.Fatalf("%+v, %d threads: dw[%d] = %g, unpooled first %g", p, threads, k, gotW[k], wantW[k])
			}
			if k := firstBitDiff(gotB, wantB); k >= 0 {
				t.Fatalf("%+v, %d threads: db[%d] = %g, unpooled first %g", p, threads, k, gotB[k], wantB[k])
			}
			gotX := make([]float32, len(x))
			Conv2dBackwardDataPooled(p, dyp, idx, w, gotX, make([]float32, p.WorkspaceLen()))
			if k := firstBitDiff(gotX, wantX); k >= 0 {
				t.Fatalf("%+v, %d threads: dx[%d] = %g, unpooled first %g", p, threads, k, gotX[k], wantX[k])
			}
		}
	}
}
