package conv

// This file is the convolution forward pass. It leaves out the gradients
// (backward.go), spreading chunks over goroutines (parallel.go), the
// memory-bound stages (lowering.go) and the ReLU backward helper (fused.go).

import "github.com/kiln-ml/kiln/internal/kernels"

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

// forwardChunk computes the outputs of chunk images n0..n0+cnt-1 with the
// workspace slot l.col, l.buf. Each output depends on its image alone, so
// the chunking and the goroutine that runs it leave no trace in the bits.
func (c *call) forwardChunk(l *lowering) {
	p := &c.p
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	inImg, outImg := p.C*p.H*p.W, p.OutC*p.OutH()*p.OutW()
	n0, ld := l.n0, l.ld
	dst := l.buf
	if l.cnt == 1 {
		dst = c.y[n0*outImg : (n0+1)*outImg]
	}
	switch {
	case p.pointwise() && l.cnt == 1:
		src := c.x[n0*inImg : (n0+1)*inImg]
		for gi := range g {
			kernels.SgemmSerial(false, false, ocg, ld, kg, 1, c.w[gi*ocg*kg:], kg, src[gi*kg*ld:], ld, 0, dst[gi*ocg*ld:], ld)
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
	if l.cnt > 1 || c.bias != nil || c.relu {
		l.run(stageScatter)
	}
}
