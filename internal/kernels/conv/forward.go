package conv

// This file is the convolution forward pass. It leaves out the gradients
// (backward.go), the memory-bound stages (lowering.go) and the ReLU backward
// helper (fused.go).

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
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	ohw := p.OutH() * p.OutW()
	inImg, outImg := p.C*p.H*p.W, p.OutC*ohw
	nb := p.chunk()
	colLen, bufLen := p.workspaceSplit()
	l := lowering{p: *p, x: x, y: y, bias: bias, relu: relu,
		col: ws[:colLen], buf: ws[colLen : colLen+bufLen]}
	for n0 := 0; n0 < p.N; n0 += nb {
		l.n0, l.cnt = n0, min(nb, p.N-n0)
		ld := l.cnt * ohw
		l.ld = ld
		src := l.col
		if p.pointwise() && l.cnt == 1 {
			src = x[n0*inImg : (n0+1)*inImg]
		} else {
			l.do(stageIm2col)
		}
		dst := l.buf
		if l.cnt == 1 {
			dst = y[n0*outImg : (n0+1)*outImg]
		}
		for gi := range g {
			kernels.Sgemm(false, false, ocg, ld, kg, 1, w[gi*ocg*kg:], kg, src[gi*kg*ld:], ld, 0, dst[gi*ocg*ld:], ld)
		}
		if l.cnt > 1 || bias != nil || relu {
			l.do(stageScatter)
		}
	}
}

// epilogue writes out = in + b, clamped at zero when relu is set; out and in
// may be the same slice.
func epilogue(out, in []float32, b float32, relu bool) {
	in = in[:len(out)]
	if relu {
		for i, v := range in {
			out[i] = max(v+b, 0)
		}
		return
	}
	for i, v := range in {
		out[i] = v + b
	}
}
