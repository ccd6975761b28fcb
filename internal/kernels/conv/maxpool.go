package conv

// This file is max pooling, forward and backward, with a fast path for the
// common 2x2 window at stride 2. It leaves out the geometry
// (pool_params.go).

import (
	"math"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// MaxPool2dForward overwrites y (N x C x OutH x OutW) with the window maxima
// of x (N x C x H x W) and idx with where each came from, as an offset h*W+w
// into its own input plane. As in PyTorch, padding never wins (it is -Inf; a
// window of only -Inf reports its first in-bounds tap) and NaN always does. It
// does not allocate.
func MaxPool2dForward(p MaxPool2dParams, x, y []float32, idx []int32) {
	p.mustFit("MaxPool2dForward", "x", len(x), "y", len(y), len(idx))
	runChunks(&call{op: opMaxPoolForward, mp: p, x: x, y: y, idx: idx})
}

// maxPoolForwardPlanes pools planes [lo, hi) of a MaxPool2dForward call.
func (c *call) maxPoolForwardPlanes(lo, hi int) {
	p := &c.mp
	hw, ohw := p.H*p.W, p.OutH()*p.OutW()
	if oh := p.OutH(); p.fast2x2() {
		planes, rows := p.calls2x2(lo, hi)
		for q := range planes {
			pl := lo + q
			kernels.MaxPool2x2(c.x[pl*hw:], c.y[pl*ohw:], c.idx[pl*ohw:], rows, oh, p.OutW(), p.W)
		}
		return
	}
	for pl := lo; pl < hi; pl++ {
		maxPoolPlane(p, c.x[pl*hw:(pl+1)*hw], c.y[pl*ohw:(pl+1)*ohw], c.idx[pl*ohw:(pl+1)*ohw])
	}
}

// mustFit panics unless p is valid, the input-sized slice (x or dx) has
// in elements as p says, and the output-sized ones (y or dy, and idx) out
// and idx.
func (p *MaxPool2dParams) mustFit(kernel, inName string, in int, outName string, out, idx int) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	planes := p.N * p.C
	mustLen(kernel, inName, in, planes*p.H*p.W)
	mustLen(kernel, outName, out, planes*p.OutH()*p.OutW())
	mustLen(kernel, "idx", idx, planes*p.OutH()*p.OutW())
}

// calls2x2 is how the 2x2 kernels cover planes [lo, hi): calls of rows
// output rows each. When the windows cover every row, the planes' input
// rows follow on, and one call does them all; else one call a plane.
func (p *MaxPool2dParams) calls2x2(lo, hi int) (calls, rows int) {
	if oh := p.OutH(); p.H != 2*oh {
		return hi - lo, oh
	}
	return 1, (hi - lo) * p.OutH()
}

// fast2x2 reports a 2x2 window at stride 2 whose windows all lie inside
// the plane: the case with kernels of its own.
func (p *MaxPool2dParams) fast2x2() bool {
	return p.KH == 2 && p.KW == 2 && p.StrideH == 2 && p.StrideW == 2 && p.PadH == 0 && p.PadW == 0 &&
		p.DilH == 1 && p.DilW == 1 && 2*p.OutH() <= p.H && 2*p.OutW() <= p.W
}

// maxPoolPlane is the general loop over one plane, in PyTorch's tap order so
// that ties and NaNs pick the same index. Starting from the first in-bounds
// tap with the key of -Inf reproduces PyTorch's start at -Inf.
func maxPoolPlane(p *MaxPool2dParams, x, y []float32, idx []int32) {
	oh, ow := p.OutH(), p.OutW()
	negInf := kernels.MaxKey(math.Float32bits(float32(math.Inf(-1))), 0)
	for i := range oh {
		h0 := i*p.StrideH - p.PadH
		h1 := min(h0+(p.KH-1)*p.DilH+1, p.H)
		for h0 < 0 {
			h0 += p.DilH
		}
		for j := range ow {
			w0 := j*p.StrideW - p.PadW
			w1 := min(w0+(p.KW-1)*p.DilW+1, p.W)
			for w0 < 0 {
				w0 += p.DilW
			}
			best, at, rank := negInf, h0*p.W+w0, int32(0)
			for h := h0; h < h1; h += p.DilH {
				row := x[h*p.W : (h+1)*p.W]
				for w := w0; w < w1; w += p.DilW {
					if k := kernels.MaxKey(math.Float32bits(row[w]), rank); k > best {
						best, at = k, h*p.W+w
					}
					rank++
				}
			}
			y[i*ow+j] = x[at]
			idx[i*ow+j] = int32(at)
		}
	}
}

// MaxPool2dBackward adds each output gradient in dy to the input position its
// idx entry names, accumulating into dx (N x C x H x W); overlapping windows
// that share a maximum sum their gradients there. It does not allocate.
func MaxPool2dBackward(p MaxPool2dParams, dy []float32, idx []int32, dx []float32) {
	maxPoolBackward(p, dy, idx, dx, false)
}

// MaxPool2dBackwardInto is MaxPool2dBackward into a dx whose contents do
// not matter: it overwrites dx with the gradient, the bits of clearing dx
// and then calling MaxPool2dBackward, without the separate pass over
// memory. The common 2x2 window at stride 2 writes each plane densely
// (kernels.MaxPool2x2Back), on every core.
func MaxPool2dBackwardInto(p MaxPool2dParams, dy []float32, idx []int32, dx []float32) {
	maxPoolBackward(p, dy, idx, dx, true)
}

func maxPoolBackward(p MaxPool2dParams, dy []float32, idx []int32, dx []float32, overwrite bool) {
	p.mustFit("MaxPool2dBackward", "dx", len(dx), "dy", len(dy), len(idx))
	runChunks(&call{op: opMaxPoolBackward, mp: p, dy: dy, idx: idx, dx: dx, overwrite: overwrite})
}

// unpool2x2 writes d, rows/oh whole planes of W-wide rows (oh pooled rows
// each), with the gradients dy of a 2x2, stride-2 max pooling routed to
// the taps idx names and +0 everywhere else (kernels.MaxPool2x2Back, then
// the columns and rows no window covers).
func unpool2x2(dy []float32, idx []int32, d []float32, rows, oh, ow, w int) {
	kernels.MaxPool2x2Back(dy, idx, d, rows, oh, ow, w)
	if w > 2*ow {
		for h := range 2 * rows {
			clear(d[h*w+2*ow : (h+1)*w])
		}
	}
	clear(d[2*rows*w:])
}

// maxPoolBackwardPlanes routes the gradients of planes [lo, hi): each
// plane's own, so the planes may run in any order. With c.overwrite it
// writes every element of the planes.
func (c *call) maxPoolBackwardPlanes(lo, hi int) {
	p := &c.mp
	hw, ohw := p.H*p.W, p.OutH()*p.OutW()
	oh, ow := p.OutH(), p.OutW()
	if c.overwrite && p.fast2x2() {
		// The windows cover columns [0, 2*ow) of rows [0, 2*oh) of each
		// plane; the rest gets no gradient.
		planes, rows := p.calls2x2(lo, hi)
		for q := range planes {
			pl := lo + q
			unpool2x2(c.dy[pl*ohw:], c.idx[pl*ohw:], c.dx[pl*hw:pl*hw+rows/oh*hw], rows, oh, ow, p.W)
		}
		return
	}
	for pl := lo; pl < hi; pl++ {
		d := c.dx[pl*hw : (pl+1)*hw]
		if c.overwrite {
			clear(d)
		}
		is := c.idx[pl*ohw : (pl+1)*ohw]
		for k, g := range c.dy[pl*ohw : (pl+1)*ohw] {
			d[is[k]] += g
		}
	}
}
