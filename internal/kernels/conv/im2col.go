package conv

// This file lowers one image to a column matrix and back. It leaves out
// batching and GEMMs (forward.go, backward.go).

import "github.com/kiln-ml/kiln/internal/kernels"

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

// im2col writes the rows of input channels [c0, c1) of the column matrix of
// one C x H x W image x into col, whose rows are (c, kh, kw) in weight order
// and whose columns are output pixels; row r starts at col[r*ld]. Every entry
// of those rows is written, padding as zeros, so col needs no clearing.
//
// The per-row work is in gatherRows, a leaf with few live values: written
// inline here, the loop nest held more values than amd64 has registers and
// ran mostly on spilled stack slots, ten times slower than a memcpy.
func im2col(p *Conv2dParams, x, col []float32, ld, c0, c1 int) {
	oh, ow := p.OutH(), p.OutW()
	h, w, kh, kw := p.H, p.W, p.KH, p.KW
	sh, sw := p.StrideH, p.StrideW
	hw := h * w
	// Channels are the inner loop so that the valid ranges, which cost
	// integer divisions, are worked out once per tap rather than per row.
	for i := range kh {
		offH := i*p.DilH - p.PadH
		ylo, yhi := validRange(offH, sh, h, oh)
		for j := range kw {
			offW := j*p.DilW - p.PadW
			xlo, xhi := validRange(offW, sw, w, ow)
			ylo, yhi := ylo, yhi
			if xlo == xhi {
				// Every pixel of this tap reads padding.
				ylo, yhi = 0, 0
			}
			start := (ylo*sh+offH)*w + xlo*sw + offW
			if ylo == 0 && yhi == oh && xlo == 0 && xhi == ow && sw == 1 && c1 > c0 {
				// No padding on this tap: its rows for every channel
				// are plain copies, made in one call.
				r := (c0*kh+i)*kw + j
				kernels.CopyPlaneRows(col[r*ld:], x[c0*hw+start:], ow, oh, ow, sh*w, c1-c0, kh*kw*ld, hw)
				continue
			}
			for c := c0; c < c1; c++ {
				r := (c*kh+i)*kw + j
				row := col[r*ld : r*ld+oh*ow]
				clear(row[:ylo*ow])
				clear(row[yhi*ow:])
				if ylo < yhi {
					gatherRows(row[ylo*ow:yhi*ow], x[c*hw+start:(c+1)*hw], ow, xlo, xhi, sh*w, sw)
				}
			}
		}
	}
}

// gatherRows fills dst, whole rows of ow output pixels, from src: row y's
// pixels [xlo, xhi) come from src[y*srcStride+(x-xlo)*sw] and the rest are
// zero (padding). It makes no calls, which would force every value to the
// stack; the zeroing loops are written so that the compiler does not turn
// them into calls to memclr.
func gatherRows(dst, src []float32, ow, xlo, xhi, srcStride, sw int) {
	n := xhi - xlo
	switch {
	case ow >= 64 && sw == 1:
		gatherLongRows(dst, src, ow, xlo, xhi, srcStride)
		return
	case n == ow && sw == 1:
		copyRows(dst, src, ow, srcStride)
		return
	}
	for y := 0; y*ow < len(dst); y++ {
		d := dst[y*ow : y*ow+ow]
		for i := 0; i < xlo; i++ {
			d[i] = 0
		}
		for i := xhi; i < ow; i++ {
			d[i] = 0
		}
		dd := d[xlo:xhi]
		if sw == 1 {
			copy(dd, src[y*srcStride:y*srcStride+len(dd)])
			continue
		}
		s := src[y*srcStride:]
		s = s[:(n-1)*sw+1]
		for i := range dd {
			dd[i] = s[i*sw]
		}
	}
}

// copyRows is gatherRows with neither padding nor stride, the commonest
// case. A vector kernel beats a Go loop even for rows of 10-28 floats (the
// seed CNN's conv1 forward went from 1.67 to 1.17 ms with memmove), and
// kernels.CopyRows's masked last vector beats memmove's calls.
func copyRows(dst, src []float32, ow, srcStride int) {
	kernels.CopyRows(dst, src, ow, len(dst)/ow, ow, srcStride)
}

// gatherLongRows is gatherRows at stride 1 for rows long enough that
// memclr beats a loop for the padding too.
func gatherLongRows(dst, src []float32, ow, xlo, xhi, srcStride int) {
	for y := 0; y*ow < len(dst); y++ {
		d := dst[y*ow : y*ow+ow]
		clear(d[:xlo])
		clear(d[xhi:])
		copy(d[xlo:xhi], src[y*srcStride:])
	}
}

// col2im adds the rows of input channels [c0, c1) of a column matrix laid out
// as im2col writes it back onto those channels of the C x H x W image dx,
// summing the overlapping taps. dx is not cleared first. Like im2col, it
// leaves the row loop to a leaf function.
func col2im(p *Conv2dParams, col []float32, ld int, dx []float32, c0, c1 int) {
	oh, ow := p.OutH(), p.OutW()
	h, w, kh, kw := p.H, p.W, p.KH, p.KW
	sh, sw := p.StrideH, p.StrideW
	hw := h * w
	for i := range kh {
		offH := i*p.DilH - p.PadH
		ylo, yhi := validRange(offH, sh, h, oh)
		for j := range kw {
			offW := j*p.DilW - p.PadW
			xlo, xhi := validRange(offW, sw, w, ow)
			if xlo == xhi || ylo == yhi {
				continue
			}
			start := (ylo*sh+offH)*w + xlo*sw + offW
			if sw == 1 && c1 > c0 {
				// The tap's rows for every channel, added in one call.
				r := (c0*kh+i)*kw + j
				kernels.AddPlaneRows(dx[c0*hw+start:], col[r*ld+ylo*ow+xlo:], xhi-xlo, yhi-ylo, sh*w, ow, c1-c0, hw, kh*kw*ld)
				continue
			}
			for c := c0; c < c1; c++ {
				r := (c*kh+i)*kw + j
				row := col[r*ld : r*ld+oh*ow]
				scatterRows(dx[c*hw+start:(c+1)*hw], row[ylo*ow:yhi*ow], ow, xlo, xhi, sh*w, sw)
			}
		}
	}
}

// scatterRows is gatherRows reversed and accumulating: pixels [xlo, xhi) of
// each row of src, ow wide, are added to dst[y*dstStride+(x-xlo)*sw].
func scatterRows(dst, src []float32, ow, xlo, xhi, dstStride, sw int) {
	n := xhi - xlo
	if sw == 1 {
		if rows := len(src) / ow; rows > 0 {
			kernels.AddRows(dst, src[xlo:], n, rows, dstStride, ow)
		}
		return
	}
	for y := 0; y*ow < len(src); y++ {
		s := src[y*ow+xlo : y*ow+xhi]
		d := dst[y*dstStride:]
		if sw == 1 {
			d = d[:n]
			for i, v := range s {
				d[i] += v
			}
			continue
		}
		d = d[:(n-1)*sw+1]
		for i, v := range s {
			d[i*sw] += v
		}
	}
}
