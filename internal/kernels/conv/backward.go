package conv

// This file is the convolution backward pass: the data gradient (transposed
// GEMM, then col2im) and the weight and bias gradients (GEMM of the column
// matrix against the output gradient). It leaves out the forward pass
// (forward.go) and the memory-bound stages (lowering.go).

import "github.com/kiln-ml/kiln/internal/kernels"

// Conv2dBackwardData overwrites dx (N x C x H x W) with the gradient of the
// loss with respect to the convolution input, given dy (N x OutC x OutH x
// OutW), the gradient with respect to the output, and the weight w. ws needs
// at least p.WorkspaceLen() elements and is clobbered. It does not allocate.
func Conv2dBackwardData(p Conv2dParams, dy, w, dx, ws []float32) {
	p.mustCheck(dx, w, dy, nil, ws, "dx", "dy")
	g := p.Groups
	cg, ocg := p.C/g, p.OutC/g
	kg := cg * p.KH * p.KW
	hw, ohw := p.H*p.W, p.OutH()*p.OutW()
	inImg := p.C * hw
	nb := p.chunk()
	colLen, bufLen := p.workspaceSplit()
	l := lowering{p: p, dy: dy, dx: dx, col: ws[:colLen], buf: ws[colLen : colLen+bufLen]}
	for n0 := 0; n0 < p.N; n0 += nb {
		l.n0, l.cnt = n0, min(nb, p.N-n0)
		ld := l.cnt * ohw
		l.ld = ld
		src := l.gather()
		if p.pointwise() && l.cnt == 1 {
			// The column matrix of a pointwise convolution is the image, so
			// the transposed GEMM lands straight in dx.
			dxi := dx[n0*inImg : (n0+1)*inImg]
			for gi := range g {
				kernels.Sgemm(true, false, cg, hw, ocg, 1, w[gi*ocg*kg:], kg, src[gi*ocg*ld:], ld, 0, dxi[gi*cg*hw:], hw)
			}
			continue
		}
		for gi := range g {
			kernels.Sgemm(true, false, kg, ld, ocg, 1, w[gi*ocg*kg:], kg, src[gi*ocg*ld:], ld, 0, l.col[gi*kg*ld:], ld)
		}
		l.do(stageCol2im)
	}
}

// Conv2dBackwardWeight adds to dw (OutC x C/Groups x KH x KW) the gradient of
// the loss with respect to the weight, and to dbias (OutC values, skipped when
// nil) the gradient with respect to the bias, given the forward input x and
// the output gradient dy. It accumulates so that a shared weight's gradients
// sum without a temporary; zero dw and dbias first for a plain gradient. ws
// needs at least p.WorkspaceLen() elements and is clobbered. It does not
// allocate.
//
// It computes the transposed gradient, columns times dy transposed, and adds
// its transpose to dw at the end: that multiply has the long side of the
// result as m, which kernels.Sgemm can split across goroutines where dy times
// the transposed columns (m = OutC/Groups) often runs on one, and it pairs
// with im2col, which is cheaper than building the transposed columns.
func Conv2dBackwardWeight(p Conv2dParams, x, dy, dw, dbias, ws []float32) {
	p.mustCheck(x, dw, dy, dbias, ws, "x", "dy")
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	ohw := p.OutH() * p.OutW()
	inImg, outImg := p.C*p.H*p.W, p.OutC*ohw
	nb := p.chunk()
	colLen, bufLen := p.workspaceSplit()
	l := lowering{p: p, x: x, dy: dy, col: ws[:colLen], buf: ws[colLen : colLen+bufLen]}
	dwT := ws[colLen+bufLen : colLen+bufLen+len(dw)]
	for n0 := 0; n0 < p.N; n0 += nb {
		l.n0, l.cnt = n0, min(nb, p.N-n0)
		ld := l.cnt * ohw
		l.ld = ld
		src := l.gather()
		cols := l.col
		if p.pointwise() && l.cnt == 1 {
			cols = x[n0*inImg : (n0+1)*inImg]
		} else {
			l.do(stageIm2col)
		}
		var beta float32
		if n0 > 0 {
			beta = 1
		}
		for gi := range g {
			kernels.Sgemm(false, true, kg, ocg, ld, 1, cols[gi*kg*ld:], ld, src[gi*ocg*ld:], ld, beta, dwT[gi*kg*ocg:], ocg)
		}
	}
	for gi := range g {
		t := dwT[gi*kg*ocg : (gi+1)*kg*ocg]
		for o := range ocg {
			row := dw[(gi*ocg+o)*kg : (gi*ocg+o+1)*kg]
			for r := range row {
				row[r] += t[r*ocg+o]
			}
		}
	}
	if dbias == nil {
		return
	}
	for n := range p.N {
		for o := range p.OutC {
			var s float32
			for _, v := range dy[n*outImg+o*ohw : n*outImg+(o+1)*ohw] {
				s += v
			}
			dbias[o] += s
		}
	}
}

// gather returns the output gradients of the chunk as one OutC x ld matrix,
// the layout the column matrices pair with. A single image already has that
// layout and is returned in place; several are copied into buf.
func (l *lowering) gather() []float32 {
	if l.cnt == 1 {
		outImg := l.p.OutC * l.p.OutH() * l.p.OutW()
		return l.dy[l.n0*outImg : (l.n0+1)*outImg]
	}
	l.do(stageGather)
	return l.buf[:l.p.OutC*l.ld]
}
