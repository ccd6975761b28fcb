package conv

// This file lowers one image to a column matrix and back. It leaves out
// batching and GEMMs (forward.go, backward.go).

// validRange returns the output positions [lo, hi) of a length-out axis
// whose input position j*s+off lies inside [0, n), so the inner loops run
// without bounds tests against padding.
func validRange(off, s, n, out int) (lo, hi int) {
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	if n-off > 0 {
		hi = (n - off + s - 1) / s
	}
	lo = min(lo, out)
	hi = min(max(hi, lo), out)
	return lo, hi
}

// im2col writes the column matrix of one C x H x W image x into col, whose
// rows are (c, kh, kw) in weight order and whose columns are output pixels;
// row r starts at col[r*ld]. Every one of the C*KH*KW x OutH*OutW entries is
// written, padding as zeros, so col needs no clearing. The runs copied are
// one output row long, often under 16 floats, so they are plain loops:
// calling copy and clear per run cost more than the copying.
func im2col(p *Conv2dParams, x, col []float32, ld int) {
	oh, ow := p.OutH(), p.OutW()
	hw := p.H * p.W
	r := 0
	for c := 0; c < p.C; c++ {
		xc := x[c*hw : (c+1)*hw]
		for kh := 0; kh < p.KH; kh++ {
			offH := kh*p.DilH - p.PadH
			ylo, yhi := validRange(offH, p.StrideH, p.H, oh)
			for kw := 0; kw < p.KW; kw++ {
				offW := kw*p.DilW - p.PadW
				xlo, xhi := validRange(offW, p.StrideW, p.W, ow)
				row := col[r*ld : r*ld+oh*ow]
				r++
				zero(row[:ylo*ow])
				zero(row[yhi*ow:])
				for y := ylo; y < yhi; y++ {
					dst := row[y*ow : (y+1)*ow]
					zero(dst[:xlo])
					zero(dst[xhi:])
					ih := y*p.StrideH + offH
					if p.StrideW == 1 {
						d := dst[xlo:xhi]
						s := xc[ih*p.W+xlo+offW:]
						s = s[:len(d)]
						for i, v := range s {
							d[i] = v
						}
						continue
					}
					src := xc[ih*p.W : (ih+1)*p.W]
					iw := xlo*p.StrideW + offW
					for j := xlo; j < xhi; j++ {
						dst[j] = src[iw]
						iw += p.StrideW
					}
				}
			}
		}
	}
}

// zero clears short slices without a call into the runtime.
func zero(s []float32) {
	if len(s) > 32 {
		clear(s)
		return
	}
	for i := range s {
		s[i] = 0
	}
}

// col2im adds a column matrix laid out as im2col writes it back onto the
// C x H x W image dx, summing the overlapping taps. dx is not cleared first.
func col2im(p *Conv2dParams, col []float32, ld int, dx []float32) {
	oh, ow := p.OutH(), p.OutW()
	hw := p.H * p.W
	r := 0
	for c := 0; c < p.C; c++ {
		dc := dx[c*hw : (c+1)*hw]
		for kh := 0; kh < p.KH; kh++ {
			offH := kh*p.DilH - p.PadH
			ylo, yhi := validRange(offH, p.StrideH, p.H, oh)
			for kw := 0; kw < p.KW; kw++ {
				offW := kw*p.DilW - p.PadW
				xlo, xhi := validRange(offW, p.StrideW, p.W, ow)
				row := col[r*ld : r*ld+oh*ow]
				r++
				if xlo == xhi {
					continue
				}
				for y := ylo; y < yhi; y++ {
					ih := y*p.StrideH + offH
					src := row[y*ow+xlo : y*ow+xhi]
					if p.StrideW == 1 {
						d := dc[ih*p.W+xlo+offW:]
						d = d[:len(src)]
						for j, v := range src {
							d[j] += v
						}
						continue
					}
					dst := dc[ih*p.W : (ih+1)*p.W]
					iw := xlo*p.StrideW + offW
					for _, v := range src {
						dst[iw] += v
						iw += p.StrideW
					}
				}
			}
		}
	}
}
