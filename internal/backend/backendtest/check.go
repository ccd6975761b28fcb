package backendtest

// This file holds the checks: finite differences of each case on one
// backend (CheckGrads) and each case and update on a backend against the
// CPU reference (Compare).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/kernels"
)

// setup allocates c's buffers on b and uploads in and c.Ints.
func setup(t testing.TB, b backend.Backend, c Case, in [][]float32) *Bufs {
	t.Helper()
	x := &Bufs{}
	for _, v := range in {
		x.In = append(x.In, upload(t, b, v))
	}
	for _, v := range c.Ints {
		ib, err := b.AllocInts(len(v))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.UploadInts(ib, v); err != nil {
			t.Fatal(err)
		}
		x.Ints = append(x.Ints, ib)
	}
	x.Out = alloc(t, b, c.Out)
	if c.Tmp > 0 {
		x.Tmp = alloc(t, b, c.Tmp)
	}
	if c.TmpInts > 0 {
		ib, err := b.AllocInts(c.TmpInts)
		if err != nil {
			t.Fatal(err)
		}
		x.TmpInts = ib
	}
	return x
}

func alloc(t testing.TB, b backend.Backend, n int) backend.Buffer {
	t.Helper()
	buf, err := b.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func upload(t testing.TB, b backend.Backend, v []float32) backend.Buffer {
	t.Helper()
	buf := alloc(t, b, len(v))
	if err := b.Upload(buf, v); err != nil {
		t.Fatal(err)
	}
	return buf
}

func download(t testing.TB, b backend.Backend, buf backend.Buffer) []float32 {
	t.Helper()
	v := make([]float32, buf.Len())
	if err := b.Download(v, buf); err != nil {
		t.Fatal(err)
	}
	return v
}

func downloadInts(t testing.TB, b backend.Backend, buf backend.IntBuffer) []int32 {
	t.Helper()
	v := make([]int32, buf.Len())
	if err := b.DownloadInts(v, buf); err != nil {
		t.Fatal(err)
	}
	return v
}

// forward runs c on inputs in and returns its output (and int scratch).
func forward(t testing.TB, b backend.Backend, c Case, in [][]float32) ([]float32, []int32) {
	t.Helper()
	x := setup(t, b, c, in)
	c.Forward(b, x)
	out := download(t, b, x.Out)
	var ints []int32
	if c.TmpInts > 0 {
		ints = downloadInts(t, b, x.TmpInts)
	}
	return out, ints
}

// backward runs c forward and back with cotangent cot and returns every
// input's gradient.
func backward(t testing.TB, b backend.Backend, c Case, cot []float32) [][]float32 {
	t.Helper()
	x := setup(t, b, c, c.In)
	c.Forward(b, x)
	dy := upload(t, b, cot)
	dx := make([]backend.Buffer, len(c.In))
	for i, v := range c.In {
		dx[i] = alloc(t, b, len(v))
	}
	c.Backward(b, x, dy, dx)
	var out [][]float32
	for _, d := range dx {
		out = append(out, download(t, b, d))
	}
	return out
}

func cotangent(c Case, seed uint64) []float32 {
	if c.Cot != nil {
		return c.Cot
	}
	rng := rand.New(rand.NewPCG(seed, 23))
	r := make([]float32, c.Out)
	for i := range r {
		r[i] = float32(rng.Float64()*2 - 1)
	}
	return r
}

// CheckGrads compares, for every case, the backward ops' gradient of
// sum(out*r) with central differences of the forward op (step 1e-2, in
// float64 sums), element by element.
func CheckGrads(t *testing.T, b backend.Backend, seed uint64) {
	for _, c := range Cases(seed) {
		t.Run(c.Name, func(t *testing.T) {
			cot := cotangent(c, seed)
			got := backward(t, b, c, cot)
			const eps = 1e-2
			loss := func(in [][]float32) float64 {
				out, _ := forward(t, b, c, in)
				var s float64
				for i, v := range out {
					s += float64(v) * float64(cot[i])
				}
				return s
			}
			bad := 0
			for i := range c.In {
				if c.NoGrad != nil && c.NoGrad[i] {
					continue
				}
				in := clone(c.In)
				for j := range in[i] {
					orig := in[i][j]
					in[i][j] = orig + eps
					up := loss(in)
					in[i][j] = orig - eps
					down := loss(in)
					in[i][j] = orig
					num := (up - down) / (2 * eps)
					if g := float64(got[i][j]); math.Abs(g-num) > 2e-3+1e-2*math.Abs(num) || math.IsNaN(g) {
						if bad < 5 {
							t.Errorf("input %d element %d: backward %.6g, finite differences %.6g", i, j, g, num)
						}
						bad++
					}
				}
			}
			if bad > 5 {
				t.Errorf("... %d mismatches in all", bad)
			}
		})
	}
}

func clone(in [][]float32) [][]float32 {
	out := make([][]float32, len(in))
	for i, v := range in {
		out[i] = append([]float32(nil), v...)
	}
	return out
}

// Compare runs every case, SGEMM in its four transpositions, the Adam,
// SGD and RMSprop updates, gradient clipping, Fill and Axpy on got and on
// the CPU backend, and requires
// every float to agree within tol relative to max(1, |reference|) and every
// index to agree exactly.
func Compare(t *testing.T, got backend.Backend, tol float64, seed uint64) {
	ref := backend.NewCPU()
	for _, c := range Cases(seed) {
		t.Run(c.Name, func(t *testing.T) {
			wo, wi := forward(t, ref, c, c.In)
			go_, gi := forward(t, got, c, c.In)
			near(t, "output", go_, wo, tol)
			for i := range wi {
				if gi[i] != wi[i] {
					t.Fatalf("index %d: %d, reference %d", i, gi[i], wi[i])
				}
			}
			cot := cotangent(c, seed)
			wg, gg := backward(t, ref, c, cot), backward(t, got, c, cot)
			for i := range wg {
				near(t, "gradient", gg[i], wg[i], tol)
			}
		})
	}
	rng := rand.New(rand.NewPCG(seed, 29))
	// Batch normalisation's other outputs: the running statistics it
	// moves and the statistics it saves for the backward.
	for _, training := range []bool{true, false} {
		p := backend.BatchNormParams{N: 5, C: 3, Spatial: 7, Training: training, Momentum: 0.1, Eps: 1e-5}
		x, rm, rv := randn(rng, p.Len()), randn(rng, p.C), randn(rng, p.C)
		for i := range rv {
			rv[i] = rv[i]*rv[i] + 0.5
		}
		run := func(be backend.Backend) []float32 {
			brm, brv, saved := upload(t, be, rm), upload(t, be, rv), alloc(t, be, 2*p.C)
			be.BatchNormForward(p, upload(t, be, x), backend.Buffer{}, backend.Buffer{}, brm, brv, alloc(t, be, p.Len()), saved)
			return append(append(download(t, be, brm), download(t, be, brv)...), download(t, be, saved)...)
		}
		near(t, "batchnorm statistics", run(got), run(ref), tol)
	}
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			m, n, k := 7, 9, 11
			a, bm, c := randn(rng, m*k+3), randn(rng, k*n+5), randn(rng, m*n)
			run := func(be backend.Backend) []float32 {
				lda, ldb := k, n
				if ta {
					lda = m
				}
				if tb {
					ldb = k
				}
				cb := upload(t, be, c)
				be.Sgemm(ta, tb, m, n, k, 0.75, upload(t, be, a), lda, upload(t, be, bm), ldb, 0.5, cb, n)
				return download(t, be, cb)
			}
			near(t, "sgemm", run(got), run(ref), tol)
		}
	}
	n := 1000
	p, g, m := randn(rng, n), randn(rng, n), randn(rng, n)
	compareUpdates(t, got, ref, p, g, m, tol)
	for _, maxNorm := range []float64{0.5, 1e3} { // clipped, and left alone
		run := func(be backend.Backend) []float32 {
			gb := upload(t, be, g)
			be.ClipGradNorm(gb, maxNorm)
			return download(t, be, gb)
		}
		near(t, "clip", run(got), run(ref), tol)
	}
	run := func(be backend.Backend) []float32 {
		y := upload(t, be, p)
		be.Axpy(-0.5, upload(t, be, g), y)
		f := upload(t, be, m)
		be.Fill(f.Slice(10, 20), 2.5)
		return append(download(t, be, y), download(t, be, f)...)
	}
	near(t, "axpy and fill", run(got), run(ref), tol)
}

// near fails t unless got and want agree within tol relative to
// max(1, |want|).
func near(t testing.TB, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		w, g := float64(want[i]), float64(got[i])
		if !(math.Abs(g-w) <= tol*math.Max(1, math.Abs(w))) && !(math.IsNaN(g) && math.IsNaN(w)) {
			if bad < 5 {
				t.Errorf("%s[%d] = %.9g, reference %.9g", what, i, g, w)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(want))
	}
}

// compareUpdates runs the optimizer updates, every mode and option, from
// the same state on got and ref: three steps each, so that momentum
// buffers and running averages are read after being written.
func compareUpdates(t *testing.T, got, ref backend.Backend, p, g, m []float32, tol float64) {
	v := make([]float32, len(m))
	for i, x := range m {
		v[i] = x * x
	}
	steps := func(be backend.Backend, step func(g backend.Buffer), bufs ...backend.Buffer) []float32 {
		gb := upload(t, be, g)
		for range 3 {
			step(gb)
		}
		var out []float32
		for _, b := range bufs {
			if !b.IsNil() {
				out = append(out, download(t, be, b)...)
			}
		}
		return out
	}
	for _, mode := range []kernels.AdamMode{kernels.AdamPlain, kernels.AdamL2, kernels.AdamDecoupled} {
		for _, opt := range []struct{ amsgrad, maximize bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			co := kernels.AdamCoef{B1: 0.9, B2: 0.999, C1: 0.1, C2: 0.001, BC2Sqrt: 0.1, NegStep: -0.01, Eps: 1e-8, WD: 0.01, Decay: 0.999,
				Maximize: opt.maximize}
			run := func(be backend.Backend) []float32 {
				bp, bm, bv := upload(t, be, p), upload(t, be, m), upload(t, be, v)
				var bvm backend.Buffer
				if opt.amsgrad {
					bvm = alloc(t, be, len(p))
				}
				return steps(be, func(gb backend.Buffer) { be.AdamStep(mode, bp, gb, bm, bv, bvm, co) }, bp, bm, bv, bvm)
			}
			near(t, fmt.Sprintf("adam mode %d %+v", mode, opt), run(got), run(ref), tol)
		}
	}
	for _, co := range []kernels.SGDCoef{{LR: 0.1}, {LR: 0.1, WD: 0.01, Momentum: 0.9, Damp: 1, First: true},
		{LR: 0.1, Momentum: 0.9, Damp: 0.5}, {LR: 0.1, WD: 0.001, Momentum: 0.9, Damp: 1, Nesterov: true},
		{LR: 0.1, Maximize: true}, {LR: 0.1, WD: 0.01, Momentum: 0.9, Damp: 1, Maximize: true}} {
		run := func(be backend.Backend) []float32 {
			bp, bb := upload(t, be, p), upload(t, be, m)
			return steps(be, func(gb backend.Buffer) { be.SGDStep(bp, gb, bb, co) }, bp, bb)
		}
		near(t, fmt.Sprintf("sgd %+v", co), run(got), run(ref), tol)
	}
	for _, o := range []struct {
		centered, momentum bool
		co                 kernels.RMSpropCoef
	}{
		{false, false, kernels.RMSpropCoef{LR: 0.01, Alpha: 0.99, C1: float32(1 - 0.99), Eps: 1e-8}},
		{true, true, kernels.RMSpropCoef{LR: 0.01, Alpha: 0.9, C1: float32(1 - 0.9), Eps: 1e-6, WD: 0.01, Momentum: 0.9}},
		{false, true, kernels.RMSpropCoef{LR: 0.01, Alpha: 0.95, C1: float32(1 - 0.95), Eps: 1e-8, Momentum: 0.5, Maximize: true}},
		{true, false, kernels.RMSpropCoef{LR: 0.01, Alpha: 0.99, C1: float32(1 - 0.99), Eps: 1e-8, WD: 0.1, Maximize: true}},
	} {
		run := func(be backend.Backend) []float32 {
			bp, bsq := upload(t, be, p), upload(t, be, v)
			var avg, buf backend.Buffer
			if o.centered {
				avg = alloc(t, be, len(p))
			}
			if o.momentum {
				buf = upload(t, be, m)
			}
			return steps(be, func(gb backend.Buffer) { be.RMSpropStep(bp, gb, bsq, avg, buf, o.co) }, bp, bsq, avg, buf)
		}
		near(t, fmt.Sprintf("rmsprop centered %v momentum %v %+v", o.centered, o.momentum, o.co), run(got), run(ref), tol)
	}
}
