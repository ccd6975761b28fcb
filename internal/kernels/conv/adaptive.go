package conv

// This file is adaptive average pooling, forward and backward. It leaves out
// adaptive max pooling, which kiln does not use.

// adaptiveWindow is PyTorch's window [floor(i*n/out), ceil((i+1)*n/out)).
func adaptiveWindow(i, n, out int) (lo, hi int) {
	return i * n / out, ((i+1)*n + out - 1) / out
}

// AdaptiveAvgPool2dForward overwrites y (N x C x OutH x OutW) with the means
// of x's (N x C x H x W) adaptive windows. It does not allocate.
func AdaptiveAvgPool2dForward(p AdaptiveAvgPool2dParams, x, y []float32) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	planes := p.N * p.C
	mustLen("AdaptiveAvgPool2dForward", "x", len(x), planes*hw)
	mustLen("AdaptiveAvgPool2dForward", "y", len(y), planes*ohw)
	for pl := range planes {
		xs, ys := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
		for i := range p.OutH {
			h0, h1 := adaptiveWindow(i, p.H, p.OutH)
			for j := range p.OutW {
				w0, w1 := adaptiveWindow(j, p.W, p.OutW)
				var s float32
				for h := h0; h < h1; h++ {
					for _, v := range xs[h*p.W+w0 : h*p.W+w1] {
						s += v
					}
				}
				ys[i*p.OutW+j] = s / float32((h1-h0)*(w1-w0))
			}
		}
	}
}

// AdaptiveAvgPool2dBackward spreads each output gradient in dy evenly over
// its window, accumulating into dx (N x C x H x W). It does not allocate.
func AdaptiveAvgPool2dBackward(p AdaptiveAvgPool2dParams, dy, dx []float32) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	planes := p.N * p.C
	mustLen("AdaptiveAvgPool2dBackward", "dy", len(dy), planes*ohw)
	mustLen("AdaptiveAvgPool2dBackward", "dx", len(dx), planes*hw)
	for pl := range planes {
		ds, gs := dx[pl*hw:(pl+1)*hw], dy[pl*ohw:(pl+1)*ohw]
		for i := range p.OutH {
			h0, h1 := adaptiveWindow(i, p.H, p.OutH)
			for j := range p.OutW {
				w0, w1 := adaptiveWindow(j, p.W, p.OutW)
				g := gs[i*p.OutW+j] / float32((h1-h0)*(w1-w0))
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
