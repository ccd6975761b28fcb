package kernels

// This file reads blocks of a convolution's column matrix (im2col's output)
// straight from the images, for the GEMMs that pack their panels from it
// (gemm_convcols.go) instead of from a materialised matrix. It leaves out
// the convolution itself (internal/kernels/conv) and col2im.

import "fmt"

// ConvColumns is the column matrix of a convolution over N consecutive
// images, described rather than stored. Row r = (c*KH+i)*KW+j is the tap
// (input channel c, kernel row i, kernel column j), column q =
// (n*OutH+oy)*OutW+ox the output pixel; entry (r, q) is
//
//	X[n*ImgStride + c*H*W + (oy*StrideH+i*DilH-PadH)*W + ox*StrideW+j*DilW-PadW]
//
// or zero where that position falls in the padding. These are the values
// and the order conv's im2col writes, so a GEMM packing its panels from a
// ConvColumns gets the bits it would get from the materialised matrix. X
// starts at channel 0 of image 0 (a group's first channel, for a grouped
// convolution); C counts the channels the matrix covers.
type ConvColumns struct {
	X                []float32
	ImgStride        int
	N, C, H, W       int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	DilH, DilW       int
	OutH, OutW       int
}

// Rows is the number of rows of the column matrix, C*KH*KW.
func (g *ConvColumns) Rows() int { return g.C * g.KH * g.KW }

// Cols is the number of columns of the column matrix, N*OutH*OutW.
func (g *ConvColumns) Cols() int { return g.N * g.OutH * g.OutW }

// check panics unless g's sizes are positive and every in-range entry lies
// inside X: a bug in the caller.
func (g *ConvColumns) check() {
	if g.N < 1 || g.C < 1 || g.H < 1 || g.W < 1 || g.KH < 1 || g.KW < 1 || g.StrideH < 1 || g.StrideW < 1 ||
		g.DilH < 1 || g.DilW < 1 || g.PadH < 0 || g.PadW < 0 || g.OutH < 1 || g.OutW < 1 {
		panic(fmt.Sprintf("kernels: ConvColumns: invalid geometry %+v", *g))
	}
	if need := (g.N-1)*g.ImgStride + g.C*g.H*g.W; g.ImgStride < 0 || len(g.X) < need {
		panic(fmt.Sprintf("kernels: ConvColumns: X has %d elements, %d images of %d channels %dx%d with stride %d need %d",
			len(g.X), g.N, g.C, g.H, g.W, g.ImgStride, need))
	}
}

// Block writes rows [r0, r0+rows) and columns [q0, q0+cols) of the column
// matrix into dst, entry (r, q) at dst[(r-r0)*ld+q-q0], padding as zeros.
// It panics when the block leaves the matrix or dst is too short.
func (g *ConvColumns) Block(dst []float32, ld, r0, rows, q0, cols int) {
	g.check()
	if r0 < 0 || rows < 0 || q0 < 0 || cols < 0 || r0+rows > g.Rows() || q0+cols > g.Cols() || ld < cols {
		panic(fmt.Sprintf("kernels: ConvColumns.Block: rows [%d,+%d) columns [%d,+%d) ld %d outside a %dx%d matrix",
			r0, rows, q0, cols, ld, g.Rows(), g.Cols()))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if len(dst) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("kernels: ConvColumns.Block: dst has %d elements, want %d", len(dst), (rows-1)*ld+cols))
	}
	g.block(dst, ld, r0, rows, q0, cols)
}

// block is Block without the checks. It walks the columns in runs of whole
// output rows of one image, where each tap is one strided copy over the
// rows for all channels (as conv's im2col does it), and partial rows
// between them, where each kernel column is one copy over kernel rows and
// channels.
func (g *ConvColumns) block(dst []float32, ld, r0, rows, q0, cols int) {
	ohw := g.OutH * g.OutW
	n, rem := q0/ohw, q0%ohw
	oy, ox := rem/g.OutW, rem%g.OutW
	for d := 0; d < cols; {
		if k := min((cols-d)/g.OutW, g.OutH-oy); ox == 0 && k > 0 {
			g.wholeRows(dst[d:], ld, r0, rows, n, oy, k)
			d += k * g.OutW
			oy += k
		} else {
			seg := min(g.OutW-ox, cols-d)
			g.run(dst[d:], ld, r0, rows, n, oy, ox, seg)
			d += seg
			if ox += seg; ox == g.OutW {
				ox = 0
				oy++
			}
		}
		if oy == g.OutH {
			oy = 0
			n++
		}
	}
}

// wholeRows writes rows [r0, r0+rows) of the k whole output rows from oy0
// of image n into dst (column 0 is dst[0]).
func (g *ConvColumns) wholeRows(dst []float32, ld, r0, rows, n, oy0, k int) {
	hw, taps, ow := g.H*g.W, g.KH*g.KW, g.OutW
	span := k * ow
	for i := range g.KH {
		iy0 := oy0*g.StrideH + i*g.DilH - g.PadH
		ya, yb := validSpan(iy0, g.StrideH, g.H, 0, k)
		for j := range g.KW {
			t := i*g.KW + j
			ca, cb := max(0, ceilDiv(r0-t, taps)), min(g.C, ceilDiv(r0+rows-t, taps))
			if ca >= cb {
				continue
			}
			ix0 := j*g.DilW - g.PadW
			xa, xb := validSpan(ix0, g.StrideW, g.W, 0, ow)
			first := (ca*taps + t - r0) * ld
			ya, yb := ya, yb
			if xa == xb {
				yb = ya // every entry is padding
			}
			if ya > 0 || yb < k || xa > 0 || xb < ow {
				for c := range cb - ca {
					row := dst[first+c*taps*ld : first+c*taps*ld+span]
					clear(row[:ya*ow])
					clear(row[yb*ow:])
					for y := ya; y < yb && (xa > 0 || xb < ow); y++ {
						clear(row[y*ow : y*ow+xa])
						clear(row[y*ow+xb : y*ow+ow])
					}
				}
			}
			if ya == yb {
				continue
			}
			src := n*g.ImgStride + ca*hw + (iy0+ya*g.StrideH)*g.W + ix0 + xa*g.StrideW
			d := first + ya*ow + xa
			if g.StrideW == 1 {
				CopyPlaneRows(dst[d:], g.X[src:], xb-xa, yb-ya, ow, g.StrideH*g.W, cb-ca, taps*ld, hw)
				continue
			}
			for c := range cb - ca {
				for y := range yb - ya {
					dr := dst[d+c*taps*ld+y*ow : d+c*taps*ld+y*ow+xb-xa]
					sr := g.X[src+c*hw+y*g.StrideH*g.W:]
					for x := range dr {
						dr[x] = sr[x*g.StrideW]
					}
				}
			}
		}
	}
}

// run writes rows [r0, r0+rows) of the seg columns starting at output pixel
// (oy, ox0) of image n into dst (column 0 is dst[0]). For each kernel column
// j, the channels whose taps all fall inside the rows go through one copy
// (kernel rows as its rows, channels as its planes); the channels cut by
// the ends of the rows, one each.
func (g *ConvColumns) run(dst []float32, ld, r0, rows, n, oy, ox0, seg int) {
	taps := g.KH * g.KW
	cLo, cHi := r0/taps, (r0+rows+taps-1)/taps
	f0, f1 := ceilDiv(r0, taps), (r0+rows)/taps // whole channels [f0, f1)
	for j := range g.KW {
		if f0 < f1 {
			g.taps(dst, ld, r0, n, oy, ox0, seg, f0, f1, 0, g.KH, j)
		}
		if cLo < f0 {
			g.partial(dst, ld, r0, rows, n, oy, ox0, seg, cLo, j)
		}
		if c := cHi - 1; c >= f1 && !(c == cLo && cLo < f0) {
			g.partial(dst, ld, r0, rows, n, oy, ox0, seg, c, j)
		}
	}
}

// partial is run's part for channel c, whose taps the rows cut.
func (g *ConvColumns) partial(dst []float32, ld, r0, rows, n, oy, ox0, seg, c, j int) {
	if ia, ib := g.kernelRows(c, j, r0, rows); ia < ib {
		g.taps(dst, ld, r0, n, oy, ox0, seg, c, c+1, ia, ib, j)
	}
}

// kernelRows returns the kernel rows [ia, ib) of channel c and kernel
// column j whose matrix rows fall in [r0, r0+rows).
func (g *ConvColumns) kernelRows(c, j, r0, rows int) (ia, ib int) {
	base := c*g.KH*g.KW + j // row of kernel row 0
	ia = max(0, ceilDiv(r0-base, g.KW))
	ib = min(g.KH, ceilDiv(r0+rows-base, g.KW))
	return ia, ib
}

// ceilDiv is a/b rounded up, for b > 0 and any sign of a.
func ceilDiv(a, b int) int {
	if a <= 0 {
		return -(-a / b)
	}
	return (a + b - 1) / b
}

// taps writes the seg columns at output pixel (oy, ox0) of image n for
// channels [ca, cb), kernel rows [ia, ib) and kernel column j.
func (g *ConvColumns) taps(dst []float32, ld, r0, n, oy, ox0, seg, ca, cb, ia, ib, j int) {
	hw, taps := g.H*g.W, g.KH*g.KW
	// Kernel rows [va, vb) read input rows inside the image.
	iy0 := oy*g.StrideH - g.PadH
	va, vb := validSpan(iy0, g.DilH, g.H, ia, ib)
	// Output columns [xa, xb) of the run read input columns inside it.
	ix0 := ox0*g.StrideW + j*g.DilW - g.PadW
	xa, xb := validSpan(ix0, g.StrideW, g.W, 0, seg)
	if xa == xb {
		va, vb = ia, ia // every entry is padding
	}
	zero := func(c, i, lo, hi int) {
		r := (c*g.KH+i)*g.KW + j - r0
		clear(dst[r*ld+lo : r*ld+hi])
	}
	for c := ca; c < cb && (va > ia || vb < ib || xa > 0 || xb < seg); c++ {
		for i := ia; i < ib; i++ {
			if i < va || i >= vb {
				zero(c, i, 0, seg)
				continue
			}
			if xa > 0 {
				zero(c, i, 0, xa)
			}
			if xb < seg {
				zero(c, i, xb, seg)
			}
		}
	}
	if va == vb {
		return
	}
	r := (ca*g.KH+va)*g.KW + j - r0
	src := n*g.ImgStride + ca*hw + (iy0+va*g.DilH)*g.W + ix0 + xa*g.StrideW
	if g.StrideW == 1 {
		CopyPlaneRows(dst[r*ld+xa:], g.X[src:], xb-xa, vb-va, g.KW*ld, g.DilH*g.W, cb-ca, taps*ld, hw)
		return
	}
	for c := range cb - ca {
		for i := range vb - va {
			d := dst[r*ld+c*taps*ld+i*g.KW*ld+xa : r*ld+c*taps*ld+i*g.KW*ld+xb]
			s := g.X[src+c*hw+i*g.DilH*g.W:]
			for x := range d {
				d[x] = s[x*g.StrideW]
			}
		}
	}
}

// validSpan returns the steps [lo, hi) within [a, b) for which the position
// off+k*step lies inside [0, n).
func validSpan(off, step, n, a, b int) (lo, hi int) {
	lo = min(max(a, ceilDiv(-off, step)), b)
	hi = max(min(b, ceilDiv(n-off, step)), lo)
	return lo, hi
}
