package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDirectConv checks DirectConv against the GEMM it stands in for, to
// the bit: the column matrix written out by hand times the weights through
// SgemmSerial. It also checks that nothing outside the rows, widths and
// channels asked for is written.
func TestDirectConv(t *testing.T) {
	if DirectConvTaps() == 0 {
		t.Skip("DirectConv needs the AVX-512 GEMM kernel; this CPU runs " + GemmKernelName())
	}
	rng := rand.New(rand.NewPCG(31, 0))
	for _, c := range []struct {
		c, h, w, kh, kw, rows, width, nch int
	}{
		{3, 32, 32, 5, 5, 28, 28, 8}, // the seed CNN's conv1
		{3, 32, 32, 5, 5, 28, 28, 5}, // fewer channels than a call takes
		{1, 20, 40, 3, 3, 3, 32, 8},  // a whole 32-wide segment
		{2, 9, 12, 2, 3, 4, 10, 3},   // one vector, masked
		{4, 8, 17, 1, 1, 8, 16, 1},   // exactly one vector
		{3, 40, 70, 7, 7, 2, 17, 8},  // one lane into the second vector
		{28, 10, 10, 3, 3, 8, 8, 8},  // 252 taps, near the most
	} {
		t.Run(fmt.Sprintf("%dx%dx%d_k%dx%d_%dx%d_ch%d", c.c, c.h, c.w, c.kh, c.kw, c.rows, c.width, c.nch), func(t *testing.T) {
			x := randSlice(rng, c.c*c.h*c.w)
			k := c.c * c.kh * c.kw
			offs := make([]int32, 0, k)
			for ci := range c.c {
				for i := range c.kh {
					for j := range c.kw {
						offs = append(offs, int32(ci*c.h*c.w+i*c.w+j))
					}
				}
			}
			w := randSlice(rng, k*DirectConvChannels)
			// The column matrix of the outputs asked for, k x (rows*width),
			// and the weights as the GEMM's A, nch x k.
			n := c.rows * c.width
			col := make([]float32, k*n)
			for t, o := range offs {
				for r := range c.rows {
					copy(col[t*n+r*c.width:t*n+(r+1)*c.width], x[int(o)+r*c.w:])
				}
			}
			a := make([]float32, c.nch*k)
			for i := range c.nch {
				for t := range k {
					a[i*k+t] = w[t*DirectConvChannels+i]
				}
			}
			gemm := make([]float32, c.nch*n)
			SgemmSerial(false, false, c.nch, n, k, 1, a, k, col, n, 0, gemm, n)
			bias := randSlice(rng, c.nch)
			for _, e := range []struct {
				bias bool
				relu bool
			}{{false, false}, {true, false}, {true, true}, {false, true}} {
				// What the GEMM path's epilogue makes of the sums.
				want := append([]float32(nil), gemm...)
				var b []float32
				if e.bias {
					b = bias
				}
				if e.bias || e.relu {
					for i := range c.nch {
						var bi float32
						if e.bias {
							bi = b[i]
						}
						biasEpilogueGo(want[i*n:(i+1)*n], want[i*n:(i+1)*n], bi, e.relu)
					}
				}
				checkDirectConv(t, fmt.Sprintf("bias %v relu %v", e.bias, e.relu), x, offs, w, b, e.relu, want, c.rows, c.w, c.width, c.nch)
			}
		})
	}
}

// checkDirectConv runs DirectConv into a y with gaps between rows and
// channels and a sentinel everywhere the call must not write, and
// compares it with want (nch x rows*width) to the bit.
func checkDirectConv(t *testing.T, name string, x []float32, offs []int32, w, bias []float32, relu bool, want []float32, rows, xrow, width, nch int) {
	t.Helper()
	n := rows * width
	yrow, ldy := width+3, (width+3)*rows+5
	y := make([]float32, DirectConvChannels*ldy)
	sentinel := float32(math.Inf(-1))
	for i := range y {
		y[i] = sentinel
	}
	DirectConv(x, offs, w, y, rows, xrow, yrow, ldy, nch, width, bias, relu)
	for i := range DirectConvChannels {
		for r := range rows + 1 {
			for j := range yrow {
				if r*yrow+j >= ldy {
					continue // the next channel's
				}
				at := i*ldy + r*yrow + j
				got := y[at]
				if i < nch && r < rows && j < width {
					if e := want[i*n+r*width+j]; math.Float32bits(got) != math.Float32bits(e) {
						t.Fatalf("%s: channel %d row %d col %d: %v, GEMM %v", name, i, r, j, got, e)
					}
				} else if got != sentinel {
					t.Fatalf("%s: channel %d row %d col %d written (%v): outside the call", name, i, r, j, got)
				}
			}
		}
	}
}

func TestDirectConvChecks(t *testing.T) {
	if DirectConvTaps() == 0 {
		t.Skip("DirectConv needs the AVX-512 GEMM kernel; this CPU runs " + GemmKernelName())
	}
	x, w, y := make([]float32, 100), make([]float32, 16), make([]float32, 100)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"x too short", func() { DirectConv(x, []int32{0, 90}, w, y, 1, 10, 10, 10, 1, 16, nil, false) }},
		{"negative offset", func() { DirectConv(x, []int32{-1}, w, y, 1, 10, 10, 10, 1, 4, nil, false) }},
		{"y too short", func() { DirectConv(x, []int32{0}, w, y, 2, 10, 10, 90, 2, 16, nil, false) }},
		{"w too short", func() { DirectConv(x, []int32{0, 1, 2}, w, y, 1, 10, 10, 10, 1, 4, nil, false) }},
		{"too wide", func() { DirectConv(x, []int32{0}, w, y, 1, 40, 40, 40, 1, 33, nil, false) }},
		{"too many channels", func() { DirectConv(x, []int32{0}, w, y, 1, 10, 10, 10, 9, 4, nil, false) }},
		{"too few biases", func() { DirectConv(x, []int32{0}, w, y, 2, 10, 10, 20, 2, 4, []float32{1}, false) }},
		{"too many taps", func() {
			DirectConv(x, make([]int32, DirectConvTaps()+1), make([]float32, 8*DirectConvTaps()+8), y, 1, 10, 10, 10, 1, 4, nil, false)
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

// BenchmarkDirectConv times one call over the seed CNN's conv1 image: 8
// channels of 28 rows of 28 outputs over 75 taps.
func BenchmarkDirectConv(b *testing.B) {
	if DirectConvTaps() == 0 {
		b.Skip("DirectConv needs the AVX-512 GEMM kernel")
	}
	rng := rand.New(rand.NewPCG(33, 0))
	x := randSlice(rng, 3*32*32)
	var offs []int32
	for c := range 3 {
		for i := range 5 {
			for j := range 5 {
				offs = append(offs, int32(c*1024+i*32+j))
			}
		}
	}
	w := randSlice(rng, 75*8)
	y := make([]float32, 8*784)
	for b.Loop() {
		DirectConv(x, offs, w, y, 28, 32, 28, 784, 8, 28, nil, false)
	}
	b.ReportMetric(2*75*784*8*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
