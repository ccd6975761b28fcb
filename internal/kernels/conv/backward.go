package conv

// This file is the convolution backward pass: the data gradient (transposed
// GEMM, then col2im) and the weight and bias gradients (GEMM of the column
// matrix against the output gradient). It leaves out the forward pass
// (forward.go), spreading chunks over goroutines (parallel.go) and the
// memory-bound stages (lowering.go).

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// Conv2dBackwardData overwrites dx (N x C x H x W) with the gradient of the
// loss with respect to the convolution input, given dy (N x OutC x OutH x
// OutW), the gradient with respect to the output, and the weight w. ws needs
// at least p.WorkspaceLen() elements and is clobbered. It does not allocate.
func Conv2dBackwardData(p Conv2dParams, dy, w, dx, ws []float32) {
	p.mustCheck(dx, w, dy, nil, ws, "dx", "dy")
	runChunks(&call{op: opBackwardData, p: p, dy: dy, w: w, dx: dx, ws: ws})
}

// backwardDataChunk computes the input gradients of one chunk of images,
// each from its own output gradient alone.
func (c *call) backwardDataChunk(l *lowering) {
	p := &c.p
	g := p.Groups
	cg, ocg := p.C/g, p.OutC/g
	kg := cg * p.KH * p.KW
	hw := p.H * p.W
	inImg := p.C * hw
	n0, ld := l.n0, l.ld
	src := c.outputGrad(l)
	if p.pointwise() && l.cnt == 1 {
		// The column matrix of a pointwise convolution is the image, so
		// the transposed GEMM lands straight in dx.
		dxi := c.dx[n0*inImg : (n0+1)*inImg]
		for gi := range g {
			kernels.SgemmSerial(true, false, cg, hw, ocg, 1, c.w[gi*ocg*kg:], kg, src[gi*ocg*ld:], ld, 0, dxi[gi*cg*hw:], hw)
		}
		return
	}
	for gi := range g {
		kernels.SgemmSerial(true, false, kg, ld, ocg, 1, c.w[gi*ocg*kg:], kg, src[gi*ocg*ld:], ld, 0, l.col[gi*kg*ld:], ld)
	}
	l.run(stageCol2im)
}

// Conv2dBackwardWeight adds to dw (OutC x C/Groups x KH x KW) the gradient of
// the loss with respect to the weight, and to dbias (OutC values, skipped when
// nil) the gradient with respect to the bias, given the forward input x and
// the output gradient dy. It accumulates so that a shared weight's gradients
// sum without a temporary; zero dw and dbias first for a plain gradient. ws
// needs at least p.WorkspaceLen() elements and is clobbered. It does not
// allocate.
//
// Each chunk of images gets its own partial gradient, and the partials are
// added in chunk order at the end: the chunks depend on p alone, so the sum
// is the same to the bit however many goroutines computed them. A chunk
// computes its gradient transposed, columns times dy transposed, which pairs
// with im2col (cheaper than building transposed columns).
func Conv2dBackwardWeight(p Conv2dParams, x, dy, dw, dbias, ws []float32) {
	p.mustCheck(x, dw, dy, dbias, ws, "x", "dy")
	weightGrad(&call{op: opBackwardWeight, p: p, x: x, dy: dy, ws: ws, dw: dw, dbias: dbias})
}

// weightGrad runs weight-gradient call c: each chunk's partial gradient,
// then the partials summed into chunk 0's, each element in chunk order,
// and the sums added, transposed back, to dw and dbias, in blocks of
// elements on several goroutines.
func weightGrad(c *call) {
	runChunks(c)
	c.op = opReducePartials
	runChunks(c)
}

// backwardWeightChunk writes chunk k's transposed weight gradient and bias
// gradient into its partial.
func (c *call) backwardWeightChunk(l *lowering, k int) {
	p := &c.p
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	ohw := p.OutH() * p.OutW()
	inImg, outImg := p.C*p.H*p.W, p.OutC*ohw
	part := c.partials()[k*p.partialLen() : (k+1)*p.partialLen()]
	dwT, db := part[:len(part)-p.OutC], part[len(part)-p.OutC:]
	n0, ld := l.n0, l.ld
	src := c.outputGrad(l)
	switch {
	case p.pointwise() && l.cnt == 1:
		cols := c.x[n0*inImg : (n0+1)*inImg]
		for gi := range g {
			kernels.SgemmSerial(false, true, kg, ocg, ld, 1, cols[gi*kg*ld:], ld, src[gi*ocg*ld:], ld, 0, dwT[gi*kg*ocg:], ocg)
		}
	case implicitWeight(p):
		xs, q, from := c.x, *p, n0
		if inPlaceWeight(p) {
			xs, q, from = l.unpadded(c.x, l.col)
		}
		for gi := range g {
			cols := columnsOf(&q, xs, from, l.cnt, gi)
			kernels.SgemmConvA(true, ocg, &cols, src[gi*ocg*ld:], ld, dwT[gi*kg*ocg:], ocg)
		}
	default:
		l.run(stageIm2col)
		for gi := range g {
			kernels.SgemmSerial(false, true, kg, ocg, ld, 1, l.col[gi*kg*ld:], ld, src[gi*ocg*ld:], ld, 0, dwT[gi*kg*ocg:], ocg)
		}
	}
	// Each output plane's sum in vector lanes (kernels.Sum): a chain of
	// scalar adds was a fifth of conv1's weight-gradient pass.
	clear(db)
	for j := range l.cnt {
		for o := range p.OutC {
			var plane []float32
			if c.unpool {
				plane = src[o*ld+j*ohw:][:ohw]
			} else {
				plane = c.dy[(n0+j)*outImg+o*ohw:][:ohw]
			}
			db[o] += kernels.Sum(plane)
		}
	}
}

// Conv2dBackwardDataPooled is Conv2dBackwardData for a convolution
// followed by 2x2, stride-2 max pooling (Conv2dForwardReLUPool), given
// dyp, the gradient of the pooled output (masked by the ReLU), and the
// pooling's idx: like Conv2dBackwardWeightPooled, it routes each chunk's
// output gradient as it goes. Same bits as MaxPool2dBackwardInto followed
// by Conv2dBackwardData. p must satisfy CanPool.
func Conv2dBackwardDataPooled(p Conv2dParams, dyp []float32, idx []int32, w, dx, ws []float32) {
	p.mustCheckPooled("Conv2dBackwardDataPooled", dx, w, nil, ws, "dx", "dy", dyp, idx, true)
	runChunks(&call{op: opBackwardData, p: p, dy: dyp, idx: idx, w: w, dx: dx, ws: ws, unpool: true})
}

// mustCheckPooled is mustCheck for the kernels whose output, or output
// gradient, yp is a 2x2 max pooling's (yName names it) with the pooling's
// indices idx, which may be nil unless needIdx.
func (p Conv2dParams) mustCheckPooled(fn string, x, w, bias, ws []float32, xName, yName string, yp []float32, idx []int32, needIdx bool) {
	if !p.CanPool() {
		panic(fmt.Sprintf("conv: %s of %+v: output under 2x2, or one image a chunk", fn, p))
	}
	n := p.N * p.OutC * (p.OutH() / 2) * (p.OutW() / 2)
	p.mustCheckLen(x, w, bias, ws, xName, yName, len(yp), n)
	if idx != nil || needIdx {
		mustLen(fn, "idx", len(idx), n)
	}
}

// outputGrad returns the chunk's output gradients as one OutC x ld
// matrix: routed from the pooled ones (unpoolChunk) or gathered.
func (c *call) outputGrad(l *lowering) []float32 {
	if c.unpool {
		return c.unpoolChunk(l)
	}
	return l.gather()
}

// Conv2dBackwardWeightPooled is Conv2dBackwardWeight for a convolution
// followed by 2x2, stride-2 max pooling (Conv2dForwardReLUPool): given
// dyp, the gradient of the pooled output (masked by the ReLU), and the
// pooling's idx, it routes each chunk's output gradient into the chunk's
// staging buffer as it goes, so that the convolution's whole output
// gradient is never written nor copied. Same bits as MaxPool2dBackwardInto
// followed by Conv2dBackwardWeight. p must satisfy CanPool; ws needs
// p.WorkspaceLen() elements.
func Conv2dBackwardWeightPooled(p Conv2dParams, x, dyp []float32, idx []int32, dw, dbias, ws []float32) {
	p.mustCheckPooled("Conv2dBackwardWeightPooled", x, dw, dbias, ws, "x", "dy", dyp, idx, true)
	weightGrad(&call{op: opBackwardWeight, p: p, x: x, dy: dyp, idx: idx, ws: ws, dw: dw, dbias: dbias, unpool: true})
}

// unpoolChunk writes the chunk's output gradients into its staging
// buffer, from the pooled gradients in c.dy, and returns them as one
// OutC x ld matrix, the layout gather returns.
func (c *call) unpoolChunk(l *lowering) []float32 {
	p := &c.p
	oh, ow := p.OutH(), p.OutW()
	ph, pw := oh/2, ow/2
	for j := range l.cnt {
		for o := range p.OutC {
			at := ((l.n0+j)*p.OutC + o) * ph * pw
			unpool2x2(c.dy[at:], c.idx[at:], l.buf[o*l.ld+j*oh*ow:][:oh*ow], ph, ph, pw, ow)
		}
	}
	return l.buf[:p.OutC*l.ld]
}

// gather returns the output gradients of the chunk as one OutC x ld matrix,
// the layout the column matrices pair with. A single image already has that
// layout and is returned in place; several are copied into buf.
func (l *lowering) gather() []float32 {
	if l.cnt == 1 {
		outImg := l.p.OutC * l.p.OutH() * l.p.OutW()
		return l.dy[l.n0*outImg : (l.n0+1)*outImg]
	}
	l.run(stageGather)
	return l.buf[:l.p.OutC*l.ld]
}
