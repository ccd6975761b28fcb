package conv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// cp builds Conv2dParams with square defaults filled in, to keep the table
// readable: stride, dilation and groups default to 1.
func cp(n, c, h, w, outC, kh, kw int, opts ...func(*Conv2dParams)) Conv2dParams {
	p := Conv2dParams{N: n, C: c, H: h, W: w, OutC: outC, KH: kh, KW: kw,
		StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func stride(h, w int) func(*Conv2dParams) {
	return func(p *Conv2dParams) { p.StrideH, p.StrideW = h, w }
}
func pad(h, w int) func(*Conv2dParams) { return func(p *Conv2dParams) { p.PadH, p.PadW = h, w } }
func dil(h, w int) func(*Conv2dParams) { return func(p *Conv2dParams) { p.DilH, p.DilW = h, w } }
func groups(g int) func(*Conv2dParams) { return func(p *Conv2dParams) { p.Groups = g } }

var convCases = []struct {
	name string
	p    Conv2dParams
}{
	{"3x3 pad1", cp(1, 3, 7, 9, 4, 3, 3, pad(1, 1))},
	{"3x3 no pad batch3", cp(3, 2, 6, 5, 3, 3, 3)},
	{"stride2 pad1", cp(3, 2, 9, 8, 5, 3, 3, stride(2, 2), pad(1, 1))},
	{"stride3 pad2", cp(2, 3, 11, 10, 3, 3, 3, stride(3, 3), pad(2, 2))},
	{"stride>kernel", cp(2, 2, 10, 11, 3, 2, 2, stride(3, 3))},
	{"dilation2", cp(2, 2, 9, 9, 3, 3, 3, dil(2, 2), pad(2, 2))},
	{"mixed everything", cp(3, 2, 9, 11, 4, 3, 2, stride(1, 2), pad(1, 0), dil(2, 1))},
	{"non-square kernel", cp(1, 3, 8, 6, 2, 1, 4, pad(0, 2))},
	{"row input", cp(2, 2, 1, 17, 3, 1, 3, pad(0, 1))},
	{"kernel fills input", cp(3, 2, 5, 4, 3, 5, 4)},
	{"pad beyond kernel", cp(1, 2, 4, 3, 2, 2, 2, pad(2, 2))},
	{"stride and pad beyond input", cp(2, 2, 1, 1, 3, 1, 1, stride(5, 5), pad(3, 3))},
	{"wide stride past padding", cp(1, 2, 3, 2, 2, 2, 1, stride(4, 5), pad(1, 3))},
	{"groups2", cp(3, 4, 7, 6, 6, 3, 3, pad(1, 1), groups(2))},
	{"groups4 stride2", cp(2, 8, 9, 9, 8, 3, 3, stride(2, 2), pad(1, 1), groups(4))},
	{"depthwise", cp(3, 6, 7, 8, 6, 3, 3, pad(1, 1), groups(6))},
	{"depthwise x2 dilated", cp(2, 3, 9, 7, 6, 3, 3, pad(2, 2), dil(2, 2), groups(3))},
	{"pointwise single image", cp(1, 5, 6, 5, 7, 1, 1)},
	{"pointwise batch", cp(3, 5, 6, 5, 7, 1, 1)},
	{"pointwise groups", cp(3, 4, 5, 3, 6, 1, 1, groups(2))},
	{"pointwise single groups4", cp(1, 8, 5, 5, 4, 1, 1, groups(4))},
	{"pointwise big images", cp(3, 3, 24, 24, 4, 1, 1)},
	{"1x1 stride2", cp(2, 3, 7, 6, 4, 1, 1, stride(2, 2))},
	{"1x1 pad1", cp(2, 3, 4, 5, 2, 1, 1, pad(1, 1))},
	{"1x1 stride2 single image", cp(1, 3, 7, 6, 4, 1, 1, stride(2, 1))},
	{"1x1 pad1 single image", cp(1, 3, 4, 5, 2, 1, 1, pad(1, 0))},
	{"big images one per chunk", cp(3, 2, 24, 24, 3, 3, 3, pad(1, 1))},
	{"chunks of 2 with remainder", cp(5, 2, 16, 16, 3, 3, 3, pad(1, 1))},
	{"many channels", cp(3, 16, 5, 5, 8, 3, 3, pad(1, 1))},
	{"long rows", cp(2, 2, 3, 70, 2, 3, 3, pad(1, 1))},
	{"5x5 seed-like", cp(3, 3, 12, 12, 4, 5, 5)},
}

// pathSettings are the batching and threading regimes every convolution
// case runs under: the chunk size the parameters choose, one image per GEMM
// (with the direct pointwise path), two images per GEMM (so that odd
// batches leave a chunk of one), and each of those with the chunks spread
// over three goroutines.
var pathSettings = []struct {
	name     string
	chunk    int
	parallel bool
}{
	{"default", 0, false},
	{"per-image", 1, false},
	{"pairs", 2, false},
	{"default parallel", 0, true},
	{"per-image parallel", 1, true},
	{"pairs parallel", 2, true},
}

// withPath runs f under setting s and restores the package defaults.
func withPath(t *testing.T, s int, f func()) {
	t.Helper()
	oldChunk, oldThreads := chunkOverride, kernels.ThreadSetting()
	defer func() {
		chunkOverride = oldChunk
		kernels.SetThreads(oldThreads)
	}()
	chunkOverride = pathSettings[s].chunk
	if pathSettings[s].parallel {
		kernels.SetThreads(3)
	} else {
		kernels.SetThreads(1)
	}
	f()
}

func TestConv2dForward(t *testing.T) {
	for s := range pathSettings {
		withPath(t, s, func() { testConv2dForward(t, pathSettings[s].name) })
	}
}

func testConv2dForward(t *testing.T, path string) {
	r := rand.New(rand.NewPCG(1, 0))
	for _, c := range convCases {
		p := c.p
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		x := randF32(r, p.N*p.C*p.H*p.W)
		w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		b := randF32(r, p.OutC)
		for _, withBias := range []bool{false, true} {
			for _, relu := range []bool{false, true} {
				bias := b
				if !withBias {
					bias = nil
				}
				want := refConvForward(p, f64(x), f64(w), f64(bias))
				if relu {
					for i, v := range want {
						want[i] = max(v, 0)
					}
				}
				y := filled(len(want), float32(math.NaN()))
				ws := filled(p.WorkspaceLen(), float32(math.NaN()))
				if relu {
					Conv2dForwardReLU(p, x, w, bias, y, ws)
				} else {
					Conv2dForward(p, x, w, bias, y, ws)
				}
				assertClose(t, path+" "+c.name+" y", y, want, 1e-5)
			}
		}
	}
}

func TestConv2dBackward(t *testing.T) {
	for s := range pathSettings {
		withPath(t, s, func() { testConv2dBackward(t, pathSettings[s].name) })
	}
}

func testConv2dBackward(t *testing.T, path string) {
	r := rand.New(rand.NewPCG(2, 0))
	for _, c := range convCases {
		p := c.p
		x := randF32(r, p.N*p.C*p.H*p.W)
		w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		dy := randF32(r, p.N*p.OutC*p.OutH()*p.OutW())
		wantDx, wantDw, wantDb := refConvBackward(p, f64(x), f64(w), f64(dy))

		ws := filled(p.WorkspaceLen(), float32(math.NaN()))
		dx := filled(len(x), float32(math.NaN())) // must be overwritten
		Conv2dBackwardData(p, dy, w, dx, ws)
		assertClose(t, path+" "+c.name+" dx", dx, wantDx, 1e-5)

		// dw and dbias accumulate: start them from random values.
		dw0, db0 := randF32(r, len(w)), randF32(r, p.OutC)
		dw, db := append([]float32(nil), dw0...), append([]float32(nil), db0...)
		for i := range wantDw {
			wantDw[i] += float64(dw0[i])
		}
		for i := range wantDb {
			wantDb[i] += float64(db0[i])
		}
		clear(ws)
		for i := range ws {
			ws[i] = float32(math.NaN())
		}
		Conv2dBackwardWeight(p, x, dy, dw, db, ws)
		assertClose(t, path+" "+c.name+" dw", dw, wantDw, 1e-5)
		assertClose(t, path+" "+c.name+" dbias", db, wantDb, 1e-5)

		// A nil dbias skips the bias gradient but not the weight gradient.
		dw2 := make([]float32, len(w))
		Conv2dBackwardWeight(p, x, dy, dw2, nil, ws)
		for i := range dw2 {
			if d := dw2[i] + dw0[i] - dw[i]; math.Abs(float64(d)) > 1e-4 {
				t.Fatalf("%s %s: dw without dbias differs at %d by %v", path, c.name, i, d)
			}
		}
	}
}

func TestReLUMaskGrad(t *testing.T) {
	y := []float32{-1, 0, 2, float32(math.Inf(1)), -0.5, 3}
	dy := []float32{1, 2, 3, 4, 5, 6}
	ReLUMaskGrad(y, dy)
	want := []float32{0, 0, 3, 4, 0, 6}
	for i := range want {
		if dy[i] != want[i] {
			t.Fatalf("dy = %v, want %v", dy, want)
		}
	}
}

func TestConv2dValidate(t *testing.T) {
	good := cp(2, 4, 8, 8, 6, 3, 3, pad(1, 1), groups(2))
	if err := good.Validate(); err != nil {
		t.Fatalf("valid params rejected: %v", err)
	}
	bad := []struct {
		name string
		edit func(*Conv2dParams)
	}{
		{"zero batch", func(p *Conv2dParams) { p.N = 0 }},
		{"zero out channels", func(p *Conv2dParams) { p.OutC = 0 }},
		{"zero stride", func(p *Conv2dParams) { p.StrideW = 0 }},
		{"zero dilation", func(p *Conv2dParams) { p.DilH = 0 }},
		{"negative pad", func(p *Conv2dParams) { p.PadW = -1 }},
		{"zero groups", func(p *Conv2dParams) { p.Groups = 0 }},
		{"groups not dividing C", func(p *Conv2dParams) { p.Groups = 3 }},
		{"groups not dividing OutC", func(p *Conv2dParams) { p.Groups = 4 }},
		{"kernel larger than input", func(p *Conv2dParams) { p.KH, p.PadH = 11, 1 }},
		{"dilated kernel larger than input", func(p *Conv2dParams) { p.DilW, p.PadW = 5, 0 }},
	}
	for _, c := range bad {
		p := good
		c.edit(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: %+v accepted", c.name, p)
		}
	}
}

func TestConv2dPanicsOnBadLengths(t *testing.T) {
	p := cp(2, 3, 5, 5, 4, 3, 3)
	x := make([]float32, 2*3*5*5)
	w := make([]float32, 4*3*3*3)
	y := make([]float32, 2*4*3*3)
	ws := make([]float32, p.WorkspaceLen())
	cases := map[string]func(){
		"short x":     func() { Conv2dForward(p, x[1:], w, nil, y, ws) },
		"long y":      func() { Conv2dForward(p, x, w, nil, append(y, 0), ws) },
		"short bias":  func() { Conv2dForward(p, x, w, make([]float32, 3), y, ws) },
		"short ws":    func() { Conv2dForward(p, x, w, nil, y, ws[:p.workspaceLen(1)-1]) },
		"short w":     func() { Conv2dBackwardData(p, y, w[1:], x, ws) },
		"short dbias": func() { Conv2dBackwardWeight(p, x, y, w, make([]float32, 1), ws) },
		"invalid":     func() { q := p; q.Groups = 0; Conv2dForward(q, x, w, nil, y, ws) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestChunkPolicy pins how many images share a column matrix: enough for
// wide, parallel GEMMs on small layers, one at a time where a single image
// fills the column budget, and never a workspace past that budget otherwise.
func TestChunkPolicy(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Conv2dParams
		want int
	}{
		{"seed conv1", cp(32, 3, 32, 32, 32, 5, 5), 5},
		{"seed conv2", cp(32, 32, 14, 14, 64, 5, 5), 6},
		{"tiny batch", cp(3, 32, 14, 14, 64, 5, 5), 3},
		{"ResNet 56x56x64 3x3", cp(32, 64, 56, 56, 64, 3, 3, pad(1, 1)), 1},
		{"capped by the column budget", cp(32, 64, 56, 56, 1, 3, 3, pad(1, 1)), 2},
		{"huge single image", cp(8, 256, 64, 64, 256, 3, 3, pad(1, 1)), 1},
	} {
		nb := c.p.chunk()
		if nb != c.want {
			t.Errorf("%s: chunk %d, want %d", c.name, nb, c.want)
		}
		col, _ := c.p.workspaceSplit()
		if nb > 1 && col > maxColFloats {
			t.Errorf("%s: %d column floats over the %d budget", c.name, col, maxColFloats)
		}
	}
}
