package conv

// This file holds the naive float64 reference kernels and helpers the tests
// compare against. They walk every tap of every window directly, sharing no
// code with the kernels under test beyond the output-size methods, which
// output_size_test.go pins to known PyTorch values.

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randF32(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

func filled(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func f64(s []float32) []float64 {
	if s == nil {
		return nil
	}
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// assertClose fails unless got matches want to within tol times the largest
// magnitude in want (at least 1), the scale float32 rounding errors follow.
func assertClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	scale := 1.0
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol*scale) {
			t.Fatalf("%s[%d] = %v, want %v (|diff| %.3g > %.3g)", what, i, got[i], want[i], d, tol*scale)
		}
	}
}

// convTap visits every (output, input, weight) index triple of a convolution
// whose input position is in bounds.
func convTap(p Conv2dParams, f func(yi, xi, wi, o int)) {
	oh, ow := p.OutH(), p.OutW()
	cg, ocg := p.C/p.Groups, p.OutC/p.Groups
	for n := 0; n < p.N; n++ {
		for o := 0; o < p.OutC; o++ {
			g := o / ocg
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					yi := ((n*p.OutC+o)*oh+i)*ow + j
					for c := 0; c < cg; c++ {
						ic := g*cg + c
						for kh := 0; kh < p.KH; kh++ {
							h := i*p.StrideH - p.PadH + kh*p.DilH
							if h < 0 || h >= p.H {
								continue
							}
							for kw := 0; kw < p.KW; kw++ {
								w := j*p.StrideW - p.PadW + kw*p.DilW
								if w < 0 || w >= p.W {
									continue
								}
								xi := ((n*p.C+ic)*p.H+h)*p.W + w
								wi := ((o*cg+c)*p.KH+kh)*p.KW + kw
								f(yi, xi, wi, o)
							}
						}
					}
				}
			}
		}
	}
}

func refConvForward(p Conv2dParams, x, w, b []float64) []float64 {
	y := make([]float64, p.N*p.OutC*p.OutH()*p.OutW())
	if b != nil {
		ohw := p.OutH() * p.OutW()
		for i := range y {
			y[i] = b[(i/ohw)%p.OutC]
		}
	}
	convTap(p, func(yi, xi, wi, _ int) { y[yi] += x[xi] * w[wi] })
	return y
}

func refConvBackward(p Conv2dParams, x, w, dy []float64) (dx, dw, db []float64) {
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	db = make([]float64, p.OutC)
	convTap(p, func(yi, xi, wi, _ int) {
		dx[xi] += dy[yi] * w[wi]
		dw[wi] += dy[yi] * x[xi]
	})
	ohw := p.OutH() * p.OutW()
	for i, v := range dy {
		db[(i/ohw)%p.OutC] += v
	}
	return dx, dw, db
}

// refMaxPool follows PyTorch's loop: taps in row-major order, start at -Inf
// with the first in-bounds tap's index, replace on greater or NaN.
func refMaxPool(p MaxPool2dParams, x []float64) ([]float64, []int32) {
	oh, ow := p.OutH(), p.OutW()
	y := make([]float64, p.N*p.C*oh*ow)
	idx := make([]int32, len(y))
	for pl := 0; pl < p.N*p.C; pl++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best, at := math.Inf(-1), -1
				for kh := 0; kh < p.KH; kh++ {
					h := i*p.StrideH - p.PadH + kh*p.DilH
					for kw := 0; kw < p.KW; kw++ {
						w := j*p.StrideW - p.PadW + kw*p.DilW
						if h < 0 || h >= p.H || w < 0 || w >= p.W {
							continue
						}
						v := x[pl*p.H*p.W+h*p.W+w]
						if at < 0 {
							at = h*p.W + w
						}
						if v > best || math.IsNaN(v) {
							best, at = v, h*p.W+w
						}
					}
				}
				y[(pl*oh+i)*ow+j], idx[(pl*oh+i)*ow+j] = best, int32(at)
			}
		}
	}
	return y, idx
}

// refAvgPool walks each window's taps over the padded input: taps inside
// the input add to the sum, taps in the zero padding only to the
// include-pad count, taps past the padding (ceil mode) to neither.
func refAvgPool(p AvgPool2dParams, x []float64) (y []float64, div []float64) {
	oh, ow := p.OutH(), p.OutW()
	y = make([]float64, p.N*p.C*oh*ow)
	div = make([]float64, oh*ow)
	for i := 0; i < oh; i++ {
		for j := 0; j < ow; j++ {
			in, padded := 0, 0
			for kh := 0; kh < p.KH; kh++ {
				h := i*p.StrideH - p.PadH + kh
				for kw := 0; kw < p.KW; kw++ {
					w := j*p.StrideW - p.PadW + kw
					if h >= p.H+p.PadH || w >= p.W+p.PadW {
						continue
					}
					padded++
					if h >= 0 && h < p.H && w >= 0 && w < p.W {
						in++
					}
				}
			}
			d := float64(padded)
			if p.ExcludePad {
				d = float64(in)
			}
			if p.DivisorOverride != 0 {
				d = float64(p.DivisorOverride)
			}
			if in == 0 {
				d = math.Inf(1) // PyTorch writes 0 for a window of only padding
			}
			div[i*ow+j] = d
		}
	}
	avgTaps(p, func(yi, xi, _ int) { y[yi] += x[xi] })
	for i := range y {
		y[i] /= div[i%(oh*ow)]
	}
	return y, div
}

// avgTaps visits every in-bounds tap of every average-pool window.
func avgTaps(p AvgPool2dParams, f func(yi, xi, oi int)) {
	oh, ow := p.OutH(), p.OutW()
	for pl := 0; pl < p.N*p.C; pl++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				for kh := 0; kh < p.KH; kh++ {
					h := i*p.StrideH - p.PadH + kh
					for kw := 0; kw < p.KW; kw++ {
						w := j*p.StrideW - p.PadW + kw
						if h >= 0 && h < p.H && w >= 0 && w < p.W {
							f((pl*oh+i)*ow+j, pl*p.H*p.W+h*p.W+w, i*ow+j)
						}
					}
				}
			}
		}
	}
}

func refAvgPoolBackward(p AvgPool2dParams, dy []float64) []float64 {
	_, div := refAvgPool(p, make([]float64, p.N*p.C*p.H*p.W))
	dx := make([]float64, p.N*p.C*p.H*p.W)
	avgTaps(p, func(yi, xi, oi int) { dx[xi] += dy[yi] / div[oi] })
	return dx
}

// refAdaptive computes the windows from the real-valued bounds
// floor(i*H/OH) and ceil((i+1)*H/OH) in float64.
func refAdaptive(p AdaptiveAvgPool2dParams, x, dy []float64) (y, dx []float64) {
	y = make([]float64, p.N*p.C*p.OutH*p.OutW)
	dx = make([]float64, len(x))
	bounds := func(i, n, out int) (int, int) {
		return int(math.Floor(float64(i) * float64(n) / float64(out))),
			int(math.Ceil(float64(i+1) * float64(n) / float64(out)))
	}
	for pl := 0; pl < p.N*p.C; pl++ {
		for i := 0; i < p.OutH; i++ {
			h0, h1 := bounds(i, p.H, p.OutH)
			for j := 0; j < p.OutW; j++ {
				w0, w1 := bounds(j, p.W, p.OutW)
				yi := (pl*p.OutH+i)*p.OutW + j
				cnt := float64((h1 - h0) * (w1 - w0))
				for h := h0; h < h1; h++ {
					for w := w0; w < w1; w++ {
						xi := pl*p.H*p.W + h*p.W + w
						y[yi] += x[xi] / cnt
						if dy != nil {
							dx[xi] += dy[yi] / cnt
						}
					}
				}
			}
		}
	}
	return y, dx
}
