package conv

// This file is the convolution forward pass. It leaves out the gradients
// (backward.go), spreading chunks over goroutines (parallel.go), the
// memory-bound stages (lowering.go) and the ReLU backward helper (fused.go).

import (
	"sync"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// Conv2dForward overwrites y (N x OutC x OutH x OutW) with the convolution of
// x (N x C x H x W) by w (OutC x C/Groups x KH x KW), plus bias (OutC values)
// unless bias is nil. ws needs at least p.WorkspaceLen() elements; its
// contents are ignored and clobbered. It does not allocate.
func Conv2dForward(p Conv2dParams, x, w, bias, y, ws []float32) {
	conv2dForward(&p, x, w, bias, y, ws, false)
}

// Conv2dForwardReLU is Conv2dForward followed by y = max(y, 0), done in the
// same pass that adds the bias so the output is touched once. Its backward is
// ReLUMaskGrad on the output gradient followed by the plain convolution
// backward kernels.
func Conv2dForwardReLU(p Conv2dParams, x, w, bias, y, ws []float32) {
	conv2dForward(&p, x, w, bias, y, ws, true)
}

func conv2dForward(p *Conv2dParams, x, w, bias, y, ws []float32, relu bool) {
	p.mustCheck(x, w, y, bias, ws, "x", "y")
	runChunks(&call{op: opForward, p: *p, x: x, w: w, bias: bias, y: y, ws: ws, relu: relu})
}

// CanPool reports whether Conv2dForwardReLUPool takes p: an output of at
// least 2x2, and chunks of more than one image, whose staging buffer holds
// a chunk's whole output before it is pooled.
func (p Conv2dParams) CanPool() bool {
	return p.Validate() == nil && p.OutH() >= 2 && p.OutW() >= 2 && p.chunk() > 1
}

// Conv2dForwardReLUPool is Conv2dForwardReLU followed by 2x2, stride-2 max
// pooling (floor mode): y (N x OutC x OutH/2 x OutW/2) and idx get what
// MaxPool2dForward writes for Conv2dForwardReLU's output, to the bit,
// without that output ever being written whole: each chunk's is pooled
// from the staging buffer while it is in cache. idx may be nil when no
// backward pass follows. p must satisfy CanPool; ws needs p.WorkspaceLen()
// elements. It does not allocate in steady state.
//
// Its backward pass needs only y and idx: the ReLU passes a gradient only
// where its output is positive, and the pooling passes each output's
// gradient to its window's maximum, whose value is the pooled output; so
// ReLUMaskGrad(y, dy) on the pooled gradient, then MaxPool2dBackwardInto,
// gives the gradient of the convolution's output.
func Conv2dForwardReLUPool(p Conv2dParams, x, w, bias, y []float32, idx []int32, ws []float32) {
	p.mustCheckPooled("Conv2dForwardReLUPool", x, w, bias, ws, "x", "y", y, idx, false)
	runChunks(&call{op: opForward, p: p, x: x, w: w, bias: bias, y: y, idx: idx, ws: ws, relu: true, pool: true})
}

// forwardChunk computes the outputs of chunk images n0..n0+cnt-1 with the
// workspace slot l.col, l.buf. Each output depends on its image alone, so
// the chunking and the goroutine that runs it leave no trace in the bits.
func (c *call) forwardChunk(l *lowering) {
	p := &c.p
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	ohw := p.OutH() * p.OutW()
	inImg, outImg := p.C*p.H*p.W, p.OutC*ohw
	n0, ld := l.n0, l.ld
	dst := l.buf
	if l.cnt == 1 && !c.pool {
		dst = c.y[n0*outImg : (n0+1)*outImg]
	}
	direct := !(p.pointwise() && l.cnt == 1) && directForward(p)
	transposed := !direct && !(p.pointwise() && l.cnt == 1) && transposedForward(p)
	// The direct and transposed paths write each image's planes where
	// they go: straight into y, or into the staging buffer to be pooled.
	out := planes{base: dst, img: ohw, ch: ld}
	if !c.pool && (direct || transposed) {
		out = planes{base: c.y[n0*outImg:], img: outImg, ch: ohw}
	}
	switch {
	case p.pointwise() && l.cnt == 1:
		src := c.x[n0*inImg : (n0+1)*inImg]
		for gi := range g {
			kernels.SgemmSerial(false, false, ocg, ld, kg, 1, c.w[gi*ocg*kg:], kg, src[gi*kg*ld:], ld, 0, dst[gi*ocg*ld:], ld)
		}
	case direct:
		c.directChunk(l, out) // with the bias and ReLU
	case transposed:
		// Each image's output with pixels as rows, from the images in
		// place, then transposed to channel-major.
		ct := l.col[:ld*ocg]
		xs, q, from := l.unpadded(c.x, l.col[ld*ocg:])
		for gi := range g {
			cols := columnsOf(&q, xs, from, l.cnt, gi)
			kernels.SgemmConvAT(ocg, &cols, c.w[gi*ocg*kg:], kg, ct, ocg)
			for j := range l.cnt {
				kernels.Transpose(out.plane(j, gi*ocg), out.ch, ct[j*ohw*ocg:], ocg, ohw, ocg)
			}
		}
	case implicitForward(p):
		for gi := range g {
			cols := l.columns(c.x, gi)
			kernels.SgemmConvB(ocg, c.w[gi*ocg*kg:], kg, &cols, dst[gi*ocg*ld:], ld)
		}
	default:
		l.run(stageIm2col)
		for gi := range g {
			kernels.SgemmSerial(false, false, ocg, ld, kg, 1, c.w[gi*ocg*kg:], kg, l.col[gi*kg*ld:], ld, 0, dst[gi*ocg*ld:], ld)
		}
	}
	switch {
	case c.pool:
		c.poolChunk(l, direct)
	case direct:
		// In y, with the bias and ReLU.
	case transposed:
		if c.bias != nil || c.relu {
			for j := range l.cnt {
				for o := range p.OutC {
					var b float32
					if c.bias != nil {
						b = c.bias[o]
					}
					pl := out.plane(j, o)[:ohw]
					kernels.BiasEpilogue(pl, pl, b, c.relu)
				}
			}
		}
	case l.cnt > 1 || c.bias != nil || c.relu:
		l.run(stageScatter)
	}
}

// planes says where a chunk's output planes go: plane (image j of the
// chunk, channel o) starts at base[j*img+o*ch].
type planes struct {
	base    []float32
	img, ch int
}

func (o planes) plane(j, ch int) []float32 { return o.base[j*o.img+ch*o.ch:] }

// poolChunk finishes a chunk of Conv2dForwardReLUPool: each output plane
// in the staging buffer gets its bias and ReLU in place, unless done says
// it has them, then is pooled into y.
func (c *call) poolChunk(l *lowering, done bool) {
	p := &c.p
	oh, ow, ohw := p.OutH(), p.OutW(), p.OutH()*p.OutW()
	ph, pw := oh/2, ow/2
	var scratch *[]int32
	if c.idx == nil {
		scratch = poolIndices.Get().(*[]int32)
		if len(*scratch) < ph*pw {
			*scratch = make([]int32, ph*pw)
		}
		defer poolIndices.Put(scratch)
	}
	for j := range l.cnt {
		img := (l.n0 + j) * p.OutC * ph * pw
		for o := range p.OutC {
			plane := l.buf[o*l.ld+j*ohw : o*l.ld+(j+1)*ohw]
			if !done {
				var b float32
				if c.bias != nil {
					b = c.bias[o]
				}
				kernels.BiasEpilogue(plane, plane, b, true)
			}
			at := img + o*ph*pw
			var idx []int32
			if scratch != nil {
				idx = *scratch
			} else {
				idx = c.idx[at : at+ph*pw]
			}
			kernels.MaxPool2x2(plane, c.y[at:at+ph*pw], idx, ph, ph, pw, ow)
		}
	}
}

// poolIndices holds scratch for the window indices Conv2dForwardReLUPool
// computes and drops.
var poolIndices = sync.Pool{New: func() any { return new([]int32) }}
