package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// colGeoms are column matrices the tests read: the seed CNN's, lenet5's and
// resnet's shapes (a batch of a few images), and small ones covering
// padding, stride, dilation and inputs narrower than the kernel's reach.
func colGeoms() []ConvColumns {
	geo := func(n, c, h, w, kh, kw, s, pad, dil int) ConvColumns {
		g := ConvColumns{N: n, C: c, H: h, W: w, KH: kh, KW: kw, StrideH: s, StrideW: s,
			PadH: pad, PadW: pad, DilH: dil, DilW: dil}
		g.OutH = (h+2*pad-dil*(kh-1)-1)/s + 1
		g.OutW = (w+2*pad-dil*(kw-1)-1)/s + 1
		g.ImgStride = c * h * w
		return g
	}
	odd := geo(2, 3, 9, 11, 3, 2, 1, 1, 1)
	odd.StrideW, odd.PadH, odd.DilH = 2, 2, 2
	odd.OutH = (9+4-2*2-1)/1 + 1
	odd.OutW = (11+2-1-1)/2 + 1
	// Unpadded, unstrided across: read in place as A (unpackedA), with
	// rows skipped and taps dilated.
	tall := geo(2, 3, 13, 12, 3, 2, 1, 0, 2)
	tall.StrideH, tall.OutH = 2, (13-2*2-1)/2+1
	return []ConvColumns{
		geo(3, 3, 32, 32, 5, 5, 1, 0, 1),  // seed CNN conv1
		geo(2, 32, 14, 14, 5, 5, 1, 0, 1), // seed CNN conv2
		geo(2, 1, 28, 28, 5, 5, 1, 2, 1),  // lenet5 conv1 (padded)
		geo(2, 6, 14, 14, 5, 5, 1, 0, 1),  // lenet5 conv2
		geo(1, 3, 32, 32, 7, 7, 2, 3, 1),  // resnet stem
		geo(2, 16, 8, 8, 3, 3, 1, 1, 1),   // resnet 3x3
		geo(2, 16, 8, 8, 3, 3, 2, 1, 1),   // resnet 3x3 stride 2
		geo(2, 16, 8, 8, 1, 1, 2, 0, 1),   // resnet 1x1 downsample
		geo(3, 2, 6, 5, 3, 3, 1, 0, 1),
		geo(2, 2, 9, 9, 3, 3, 1, 2, 2),  // dilated
		geo(2, 2, 4, 3, 2, 2, 1, 2, 1),  // padding beyond the kernel
		geo(2, 2, 1, 1, 1, 1, 5, 3, 1),  // stride and padding beyond the input
		geo(2, 40, 7, 7, 3, 3, 1, 1, 1), // K = 360 spans two KC slices
		odd,
		tall,
		geo(2, 3, 13, 12, 3, 3, 2, 0, 1), // unpadded stride 2: read in place with a step of 2
		geo(2, 4, 9, 9, 1, 1, 2, 0, 1),   // 1x1 stride 2, unpadded
		geo(1, 2, 14, 14, 3, 3, 3, 0, 1), // stride 3: packed
	}
}

// at is entry (r, q) of g's column matrix, by its definition.
func (g *ConvColumns) at(r, q int) float32 {
	c, i, j := r/(g.KH*g.KW), r/g.KW%g.KH, r%g.KW
	n, oy, ox := q/(g.OutH*g.OutW), q/g.OutW%g.OutH, q%g.OutW
	iy, ix := oy*g.StrideH+i*g.DilH-g.PadH, ox*g.StrideW+j*g.DilW-g.PadW
	if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
		return 0
	}
	return g.X[n*g.ImgStride+c*g.H*g.W+iy*g.W+ix]
}

// materialise returns g's whole column matrix, row-major.
func (g *ConvColumns) materialise() []float32 {
	m := make([]float32, g.Rows()*g.Cols())
	for r := range g.Rows() {
		for q := range g.Cols() {
			m[r*g.Cols()+q] = g.at(r, q)
		}
	}
	return m
}

func withImages(g ConvColumns, rng *rand.Rand) ConvColumns {
	// Nonzero values everywhere, so a missed copy cannot pass for padding.
	g.X = make([]float32, (g.N-1)*g.ImgStride+g.C*g.H*g.W)
	for i := range g.X {
		g.X[i] = 1 + rng.Float32()
	}
	return g
}

// TestConvColumnsBlock reads random blocks of every geometry, and the whole
// matrix, and compares each entry with the definition; entries of dst past
// the block's columns must stay untouched.
func TestConvColumnsBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 0))
	const sentinel = -7
	for _, g0 := range colGeoms() {
		g := withImages(g0, rng)
		rows, cols := g.Rows(), g.Cols()
		for trial := range 40 {
			r0, q0 := rng.IntN(rows), rng.IntN(cols)
			nr, nq := 1+rng.IntN(rows-r0), 1+rng.IntN(cols-q0)
			if trial == 0 {
				r0, q0, nr, nq = 0, 0, rows, cols
			}
			ld := nq + rng.IntN(3)
			dst := make([]float32, nr*ld)
			for i := range dst {
				dst[i] = sentinel
			}
			g.Block(dst, ld, r0, nr, q0, nq)
			for r := range nr {
				for q := range ld {
					got := dst[r*ld+q]
					want := float32(sentinel)
					if q < nq {
						want = g.at(r0+r, q0+q)
					}
					if got != want {
						t.Fatalf("%+v block rows [%d,+%d) cols [%d,+%d): entry (%d, %d) = %g, want %g",
							g0, r0, nr, q0, nq, r0+r, q0+q, got, want)
					}
				}
			}
		}
	}
}

// TestConvColumnsBlockPanics checks that a block outside the matrix, a
// short dst and short images are refused.
func TestConvColumnsBlockPanics(t *testing.T) {
	g := withImages(colGeoms()[8], rand.New(rand.NewPCG(1, 0)))
	short := g
	short.X = short.X[:len(short.X)-1]
	for name, f := range map[string]func(){
		"rows past the end": func() { g.Block(make([]float32, 1000), 10, g.Rows()-1, 2, 0, 1) },
		"cols past the end": func() { g.Block(make([]float32, 1000), 10, 0, 1, g.Cols()-1, 2) },
		"ld below cols":     func() { g.Block(make([]float32, 1000), 2, 0, 2, 0, 3) },
		"short dst":         func() { g.Block(make([]float32, 5), 3, 0, 2, 0, 3) },
		"short images":      func() { short.Block(make([]float32, 1000), 10, 0, 1, 0, 1) },
	} {
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

// TestSgemmConvBitIdentical multiplies by column matrices read from the
// images and by the same matrices materialised, with every kernel, and
// requires the same bits: the packed panels hold the same values in the
// same order. The shapes span several packed blocks of columns, KC slices
// of K and (for A) MC blocks of rows.
func TestSgemmConvBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 0))
	defer func(f, d int, direct bool) { convBlockFloats, convDirectFloats, convDirect = f, d, direct }(convBlockFloats, convDirectFloats, convDirect)
	for _, blockFloats := range []int{convBlockFloats, 1 << 9} {
		convBlockFloats, convDirectFloats = blockFloats, blockFloats
		for _, direct := range []bool{true, false} {
			convDirect = direct
			for _, g0 := range colGeoms() {
				g := withImages(g0, rng)
				col := g.materialise()
				k, n := g.Rows(), g.Cols()
				for _, kn := range availableKernels() {
					name := fmt.Sprintf("%s %+v block %d direct %v", kn.name, g0, blockFloats, direct)
					// B: C (m x n) = W (m x k) * col.
					for _, m := range []int{6, 32, 133} {
						w := randSlice(rng, m*k)
						want, got := make([]float32, m*n), make([]float32, m*n)
						ref := gemmArgs{m: m, n: n, k: k, alpha: 1, a: w, lda: k, b: col, ldb: n, c: want, ldc: n}
						sgemmParallel(kn, 1, &ref)
						sgemmConv(kn, &gemmArgs{m: m, n: n, k: k, alpha: 1, a: w, lda: k, c: got, ldc: n}, nil, &g)
						sameColBits(t, name+fmt.Sprintf(" B m=%d", m), got, want)
					}
					// A: C (k x o) = col * dy^T, and col * B untransposed.
					for _, trans := range []bool{true, false} {
						o := 40
						b := randSlice(rng, o*n)
						ldb := n
						if !trans {
							ldb = o
						}
						want, got := make([]float32, k*o), make([]float32, k*o)
						ref := gemmArgs{transB: trans, m: k, n: o, k: n, alpha: 1, a: col, lda: n, b: b, ldb: ldb, c: want, ldc: o}
						sgemmParallel(kn, 1, &ref)
						sgemmConv(kn, &gemmArgs{transB: trans, m: k, n: o, k: n, alpha: 1, b: b, ldb: ldb, c: got, ldc: o}, &g, nil)
						sameColBits(t, name+fmt.Sprintf(" A transB=%v", trans), got, want)
					}
				}
			}
		}
	}
}

// TestSgemmConvATBitIdentical checks SgemmConvAT, the output with pixels
// as rows, against Sgemm's channel-major output on the materialised
// matrix, element for element to the bit, on every unpadded geometry.
func TestSgemmConvATBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 0))
	ran := 0
	for _, g0 := range colGeoms() {
		g := withImages(g0, rng)
		if !g.ReadsATInPlace() {
			continue
		}
		ran++
		col := g.materialise()
		k, n := g.Rows(), g.Cols()
		for _, m := range []int{6, 32, 40, 133} {
			w := randSlice(rng, m*k)
			want, got := make([]float32, m*n), make([]float32, n*m)
			SgemmSerial(false, false, m, n, k, 1, w, k, col, n, 0, want, n)
			SgemmConvAT(m, &g, w, k, got, m)
			for o := range m {
				for q := range n {
					if a, b := got[q*m+o], want[o*n+q]; math.Float32bits(a) != math.Float32bits(b) {
						t.Fatalf("%+v m=%d: C^T[%d][%d] = %g, Sgemm's C[%d][%d] = %g", g0, m, q, o, a, o, q, b)
					}
				}
			}
		}
	}
	if ran == 0 {
		t.Skip("no in-place kernel on this CPU (" + GemmKernelName() + ")")
	}
}

func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 0))
	for _, c := range [][2]int{{1, 1}, {8, 8}, {17, 9}, {600, 64}, {3, 40}} {
		rows, cols := c[0], c[1]
		src := randSlice(rng, rows*(cols+2))
		dst := make([]float32, cols*(rows+3))
		Transpose(dst, rows+3, src, cols+2, rows, cols)
		for i := range rows {
			for j := range cols {
				if dst[j*(rows+3)+i] != src[i*(cols+2)+j] {
					t.Fatalf("%dx%d: dst[%d][%d] = %v, src[%d][%d] = %v", rows, cols, j, i, dst[j*(rows+3)+i], i, j, src[i*(cols+2)+j])
				}
			}
		}
	}
}

func sameColBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %g, want %g bit for bit", name, i, got[i], want[i])
		}
	}
}

// TestSgemmConvEntryPoints checks the exported calls against Sgemm on the
// materialised matrix, and that a warmed-up call allocates nothing.
func TestSgemmConvEntryPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 0))
	g := withImages(colGeoms()[1], rng)
	col := g.materialise()
	k, n, m := g.Rows(), g.Cols(), 64
	w := randSlice(rng, m*k)
	want, got := make([]float32, m*n), make([]float32, m*n)
	SgemmSerial(false, false, m, n, k, 1, w, k, col, n, 0, want, n)
	SgemmConvB(m, w, k, &g, got, n)
	sameColBits(t, "SgemmConvB", got, want)
	dy := randSlice(rng, m*n)
	wantT, gotT := make([]float32, k*m), make([]float32, k*m)
	SgemmSerial(false, true, k, m, n, 1, col, n, dy, n, 0, wantT, m)
	SgemmConvA(true, m, &g, dy, n, gotT, m)
	sameColBits(t, "SgemmConvA", gotT, wantT)
	if a := testing.AllocsPerRun(5, func() {
		SgemmConvB(m, w, k, &g, got, n)
		SgemmConvA(true, m, &g, dy, n, gotT, m)
	}); a != 0 && !raceEnabled {
		t.Errorf("SgemmConvB and SgemmConvA allocate %v times a call pair", a)
	}
}
