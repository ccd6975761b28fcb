package conv

// This file is the forward pass's direct path: a stride-1 convolution with
// few taps (input channels times kernel positions) computed by
// kernels.DirectConv straight from the images, its output rows read as
// shifted input rows, with no column matrix and no packed B panels. Each
// output is the GEMM's chain of FMAs over the taps in the same order, so
// the bits are the GEMM path's. It leaves out the gradients, which run as
// GEMMs (backward.go).

import "github.com/kiln-ml/kiln/internal/kernels"

// directConv says when the forward pass runs the direct path: directAuto,
// the default, where it measured faster (directForward); the others are
// for tests and for timing the two side by side.
var directConv = directAuto

const (
	directAuto = iota
	directNever
	directAlways
)

// maxDirectTaps bounds the tap offsets a direct call keeps on its stack;
// kernels.DirectConvTaps is at most this.
const maxDirectTaps = 256

// directForward reports whether the forward pass of p runs the direct
// path: stride 1, at most kernels.DirectConvTaps taps (so the sum is one
// FMA chain, as in the GEMM), and output rows that fill at least three
// quarters of the 32-wide calls they take. Its scratch (the packed weights
// and a padded image) must fit where the column matrix would go. A GEMM
// over so few taps spends as long packing its B panels (each float of
// which takes part in only OutC multiply-adds) as multiplying; on the
// shared 2-vCPU Zen 5 (docs/PERFORMANCE.md) the seed CNN's conv1 (75 taps,
// 28 wide) ran 1.16-1.2x faster direct, LeNet-5's 2.8-5x.
func directForward(p *Conv2dParams) bool {
	taps := (p.C / p.Groups) * p.KH * p.KW
	if directConv == directNever || p.StrideH != 1 || p.StrideW != 1 || p.pointwise() ||
		taps > min(kernels.DirectConvTaps(), maxDirectTaps) {
		return false
	}
	col, _ := p.workspaceSplit()
	if directScratch(p) > col {
		return false
	}
	if directConv == directAlways {
		return true
	}
	ow := p.OutW()
	calls := ceilDiv(ow, kernels.DirectConvWidth)
	return 4*ow >= 3*calls*kernels.DirectConvWidth
}

// directScratch is how many floats the direct path needs: the weights
// packed tap-major, 8 channels a tap, then one padded image when p pads.
func directScratch(p *Conv2dParams) int {
	return directWeightLen(p) + paddedImageLen(p)
}

func directWeightLen(p *Conv2dParams) int {
	g := p.Groups
	blocks := ceilDiv(p.OutC/g, kernels.DirectConvChannels)
	return g * blocks * (p.C / g) * p.KH * p.KW * kernels.DirectConvChannels
}

// directChunk writes the outputs of the chunk's images where out says,
// with the bias and the ReLU (when c has them) applied as the scatter
// stage and poolChunk apply them, using l.col as scratch.
func (c *call) directChunk(l *lowering, out planes) {
	p := &c.p
	g := p.Groups
	cg, ocg := p.C/g, p.OutC/g
	taps := cg * p.KH * p.KW
	const ch = kernels.DirectConvChannels
	blocks := ceilDiv(ocg, ch)

	// The weights, group by group and block of 8 output channels by
	// block, tap-major: w[(gi, b)][t*8+i] = weight[gi*ocg+b*8+i][t].
	wp := l.col[:directWeightLen(p)]
	for gi := range g {
		for b := range blocks {
			blk := wp[(gi*blocks+b)*taps*ch:][:taps*ch]
			for i := range ch {
				o := b*ch + i
				if o >= ocg {
					for t := range taps {
						blk[t*ch+i] = 0
					}
					continue
				}
				row := c.w[(gi*ocg+o)*taps:][:taps]
				for t, v := range row {
					blk[t*ch+i] = v
				}
			}
		}
	}

	// Each tap's offset from an output's top-left input, in the image
	// the kernel reads (padded when p pads).
	hp, wpad := p.H+2*p.PadH, p.W+2*p.PadW
	var buf [maxDirectTaps]int32
	cols := kernels.ConvColumns{C: cg, H: hp, W: wpad, KH: p.KH, KW: p.KW, DilH: p.DilH, DilW: p.DilW}
	offs := cols.TapOffsets(buf[:0])

	oh, ow := p.OutH(), p.OutW()
	hw := p.H * p.W
	inImg := p.C * hw
	padded := l.col[len(wp):][:paddedImageLen(p)]
	for j := range l.cnt {
		img := c.x[(l.n0+j)*inImg:][:inImg]
		if len(padded) > 0 {
			padImage(p, img, padded)
			img = padded
		}
		for gi := range g {
			xg := img[gi*cg*hp*wpad:]
			for b := range blocks {
				nch := min(ch, ocg-b*ch)
				w := wp[(gi*blocks+b)*taps*ch:][:taps*ch]
				y := out.plane(j, gi*ocg+b*ch)
				var bias []float32
				if c.bias != nil {
					bias = c.bias[gi*ocg+b*ch:][:nch]
				}
				for s := 0; s < ow; s += kernels.DirectConvWidth {
					width := min(kernels.DirectConvWidth, ow-s)
					kernels.DirectConv(xg[s:], offs, w, y[s:], oh, wpad, ow, out.ch, nch, width, bias, c.relu)
				}
			}
		}
	}
}

// padImage writes image x (C x H x W) into dst (C x H+2*PadH x W+2*PadW)
// with zero borders.
func padImage(p *Conv2dParams, x, dst []float32) {
	hp, wp := p.H+2*p.PadH, p.W+2*p.PadW
	for ci := range p.C {
		plane := dst[ci*hp*wp:][:hp*wp]
		clear(plane[:p.PadH*wp])
		for h := range p.H {
			row := plane[(p.PadH+h)*wp:][:wp]
			clear(row[:p.PadW])
			copy(row[p.PadW:], x[(ci*p.H+h)*p.W:][:p.W])
			clear(row[p.PadW+p.W:])
		}
		clear(plane[(p.PadH+p.H)*wp:])
	}
}
