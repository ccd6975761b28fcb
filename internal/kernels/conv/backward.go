package conv

// This file is the convolution backward pass: the data gradient (transposed
// GEMM, then col2im) and the weight and bias gradients (GEMM against the
// column matrix). It leaves out the forward pass (forward.go).

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
	col, buf := ws[:colLen], ws[colLen:colLen+bufLen]
	for n0 := 0; n0 < p.N; n0 += nb {
		cnt := min(nb, p.N-n0)
		ld := cnt * ohw
		src := gatherChunk(&p, dy, buf, n0, cnt)
		if p.pointwise() && cnt == 1 {
			// The column matrix of a pointwise convolution is the image, so
			// the transposed GEMM lands straight in dx.
			dxi := dx[n0*inImg : (n0+1)*inImg]
			for gi := range g {
				kernels.Sgemm(true, false, cg, hw, ocg, 1, w[gi*ocg*kg:], kg, src[gi*ocg*ld:], ld, 0, dxi[gi*cg*hw:], hw)
			}
			continue
		}
		for gi := range g {
			kernels.Sgemm(true, false, kg, ld, ocg, 1, w[gi*ocg*kg:], kg, src[gi*ocg*ld:], ld, 0, col[gi*kg*ld:], ld)
		}
		for j := range cnt {
			dxi := dx[(n0+j)*inImg : (n0+j+1)*inImg]
			clear(dxi)
			col2im(&p, col[j*ohw:], ld, dxi)
		}
	}
}

// Conv2dBackwardWeight adds to dw (OutC x C/Groups x KH x KW) the gradient of
// the loss with respect to the weight, and to dbias (OutC values, skipped when
// nil) the gradient with respect to the bias, given the forward input x and
// the output gradient dy. It accumulates so that a shared weight's gradients
// sum without a temporary; zero dw and dbias first for a plain gradient. ws
// needs at least p.WorkspaceLen() elements and is clobbered. It does not
// allocate.
func Conv2dBackwardWeight(p Conv2dParams, x, dy, dw, dbias, ws []float32) {
	p.mustCheck(x, dw, dy, dbias, ws, "x", "dy")
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	ohw := p.OutH() * p.OutW()
	inImg, outImg := p.C*p.H*p.W, p.OutC*ohw
	nb := p.chunk()
	colLen, bufLen := p.workspaceSplit()
	col, buf := ws[:colLen], ws[colLen:colLen+bufLen]
	for n0 := 0; n0 < p.N; n0 += nb {
		cnt := min(nb, p.N-n0)
		ld := cnt * ohw
		cols := col
		if p.pointwise() && cnt == 1 {
			cols = x[n0*inImg : (n0+1)*inImg]
		} else {
			for j := range cnt {
				im2col(&p, x[(n0+j)*inImg:(n0+j+1)*inImg], col[j*ohw:], ld)
			}
		}
		src := gatherChunk(&p, dy, buf, n0, cnt)
		for gi := range g {
			kernels.Sgemm(false, true, ocg, kg, ld, 1, src[gi*ocg*ld:], ld, cols[gi*kg*ld:], ld, 1, dw[gi*ocg*kg:], kg)
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

// gatherChunk returns the output gradients of images n0..n0+cnt-1 as one
// OutC x cnt*OutH*OutW matrix, the layout im2col's columns pair with. A single
// image already has that layout and is returned in place; several are copied
// into buf.
func gatherChunk(p *Conv2dParams, dy, buf []float32, n0, cnt int) []float32 {
	ohw := p.OutH() * p.OutW()
	outImg := p.OutC * ohw
	if cnt == 1 {
		return dy[n0*outImg : (n0+1)*outImg]
	}
	ld := cnt * ohw
	for j := range cnt {
		img := dy[(n0+j)*outImg : (n0+j+1)*outImg]
		for o := range p.OutC {
			copy(buf[o*ld+j*ohw:o*ld+(j+1)*ohw], img[o*ohw:(o+1)*ohw])
		}
	}
	return buf[:p.OutC*ld]
}
