package conv

// This file is average pooling, forward and backward. It leaves out the
// geometry (pool_params.go) and adaptive pooling (adaptive.go).

// avgWindow returns the in-bounds rows or columns [lo, hi) of window i along
// one axis and the span the divisor counts when padding is included: up to
// the padded edge, never into the extra room ceil mode adds.
func avgWindow(i, k, s, pad, n int) (lo, hi, span int) {
	lo = i*s - pad
	hi = min(lo+k, n+pad)
	span = hi - lo
	return max(lo, 0), min(hi, n), span
}

// avgDivisor is the number one window's sum is divided by.
func avgDivisor(p *AvgPool2dParams, h0, h1, w0, w1, spanH, spanW int) float32 {
	switch {
	case p.DivisorOverride != 0:
		return float32(p.DivisorOverride)
	case p.ExcludePad:
		return float32((h1 - h0) * (w1 - w0))
	}
	return float32(spanH * spanW)
}

// AvgPool2dForward overwrites y (N x C x OutH x OutW) with the window means of
// x (N x C x H x W), divided as PyTorch divides (see AvgPool2dParams). A
// window lying wholly in padding yields 0. It does not allocate.
func AvgPool2dForward(p AvgPool2dParams, x, y []float32) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	hw, oh, ow := p.H*p.W, p.OutH(), p.OutW()
	planes := p.N * p.C
	mustLen("AvgPool2dForward", "x", len(x), planes*hw)
	mustLen("AvgPool2dForward", "y", len(y), planes*oh*ow)
	for pl := range planes {
		xs, ys := x[pl*hw:(pl+1)*hw], y[pl*oh*ow:(pl+1)*oh*ow]
		for i := range oh {
			h0, h1, sh := avgWindow(i, p.KH, p.StrideH, p.PadH, p.H)
			for j := range ow {
				w0, w1, sw := avgWindow(j, p.KW, p.StrideW, p.PadW, p.W)
				if h0 >= h1 || w0 >= w1 {
					ys[i*ow+j] = 0
					continue
				}
				var s float32
				for h := h0; h < h1; h++ {
					for _, v := range xs[h*p.W+w0 : h*p.W+w1] {
						s += v
					}
				}
				ys[i*ow+j] = s / avgDivisor(&p, h0, h1, w0, w1, sh, sw)
			}
		}
	}
}

// AvgPool2dBackward spreads each output gradient in dy evenly (by the same
// divisor as the forward pass) over its window's in-bounds inputs,
// accumulating into dx (N x C x H x W). It does not allocate.
func AvgPool2dBackward(p AvgPool2dParams, dy, dx []float32) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	hw, oh, ow := p.H*p.W, p.OutH(), p.OutW()
	planes := p.N * p.C
	mustLen("AvgPool2dBackward", "dy", len(dy), planes*oh*ow)
	mustLen("AvgPool2dBackward", "dx", len(dx), planes*hw)
	for pl := range planes {
		ds, gs := dx[pl*hw:(pl+1)*hw], dy[pl*oh*ow:(pl+1)*oh*ow]
		for i := range oh {
			h0, h1, sh := avgWindow(i, p.KH, p.StrideH, p.PadH, p.H)
			for j := range ow {
				w0, w1, sw := avgWindow(j, p.KW, p.StrideW, p.PadW, p.W)
				if h0 >= h1 || w0 >= w1 {
					continue
				}
				g := gs[i*ow+j] / avgDivisor(&p, h0, h1, w0, w1, sh, sw)
				for h := h0; h < h1; h++ {
					row := ds[h*p.W+w0 : h*p.W+w1]
					for k := range row {
						row[k] += g
					}
				}
			}
		}
	}
}
