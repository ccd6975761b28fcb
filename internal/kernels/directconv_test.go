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
			want := make([]float32, c.nch*n)
			SgemmSerial(false, false, c.nch, n, k, 1, a, k, col, n, 0, want, n)

			// y: each channel's rows yrow apart, channels ldy apart, with
			// a sentinel everywhere the call must not write.
			yrow, ldy := c.width+3, (c.width+3)*c.rows+5
			y := make([]float32, DirectConvChannels*ldy)
			sentinel := float32(math.Inf(-1))
			for i := range y {
				y[i] = sentinel
			}
			DirectConv(x, offs, w, y, c.rows, c.w, yrow, ldy, c.nch, c.width)
			for i := range DirectConvChannels {
				for r := range c.rows + 1 {
					for j := range yrow {
						if r*yrow+j >= ldy {
							continue // the next channel's
						}
						at := i*ldy + r*yrow + j
						got := y[at]
						if i < c.nch && r < c.rows && j < c.width {
							if e := want[i*n+r*c.width+j]; math.Float32bits(got) != math.Float32bits(e) {
								t.Fatalf("channel %d row %d col %d: %v, GEMM %v", i, r, j, got, e)
							}
						} else if got != sentinel {
							t.Fatalf("channel %d row %d col %d written (%v): outside the call", i, r, j, got)
						}
					}
				}
			}
		})
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
		{"x too short", func() { DirectConv(x, []int32{0, 90}, w, y, 1, 10, 10, 10, 1, 16) }},
		{"negative offset", func() { DirectConv(x, []int32{-1}, w, y, 1, 10, 10, 10, 1, 4) }},
		{"y too short", func() { DirectConv(x, []int32{0}, w, y, 2, 10, 10, 90, 2, 16) }},
		{"w too short", func() { DirectConv(x, []int32{0, 1, 2}, w, y, 1, 10, 10, 10, 1, 4) }},
		{"too wide", func() { DirectConv(x, []int32{0}, w, y, 1, 40, 40, 40, 1, 33) }},
		{"too many channels", func() { DirectConv(x, []int32{0}, w, y, 1, 10, 10, 10, 9, 4) }},
		{"too many taps", func() {
			DirectConv(x, make([]int32, DirectConvTaps()+1), make([]float32, 8*DirectConvTaps()+8), y, 1, 10, 10, 10, 1, 4)
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
		DirectConv(x, offs, w, y, 28, 32, 28, 784, 8, 28)
	}
	b.ReportMetric(2*75*784*8*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
