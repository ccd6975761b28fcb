package conv

import "github.com/kiln-ml/kiln/internal/kernels"

// This file runs the memory-bound stages around the GEMMs (im2col, col2im,
// and the copies between NCHW and the chunk matrices) over one chunk of
// images. It leaves out the stages' loops (im2col.go), the GEMMs
// (forward.go, backward.go) and running chunks in parallel (parallel.go).

// stage is one memory-bound pass over a chunk of images. Each splits into
// units that write disjoint memory: a (image, channel) or (image, output
// channel) pair.
type stage uint8

const (
	stageIm2col  stage = iota // x -> col; units (image, input channel)
	stageCol2im               // col -> dx, overwriting; units (image, input channel)
	stageGather               // dy -> buf; units (image, output channel)
	stageScatter              // buf (or y itself) + bias, ReLU -> y; units (image, output channel)
)

// lowering is one chunk of images n0..n0+cnt-1 and the buffers its stages
// read and write. col and buf are the chunk matrices; their columns are the
// chunk's output pixels, ld of them, image j's starting at j*OutH*OutW.
type lowering struct {
	p           Conv2dParams
	n0, cnt, ld int
	relu        bool
	x, dx       []float32
	y, dy       []float32
	col, buf    []float32
	bias        []float32
}

// implicitGEMM says when the forward pass and the weight gradient pack
// their GEMM panels straight from the images (kernels.ConvColumns) instead
// of from a column matrix that im2col writes first. Both give the same
// bits. implicitAuto, the default, takes whichever measured faster for the
// shape (implicitForward, implicitWeight); the others are for tests and
// for timing the two side by side (the convmaterialised build tag).
var implicitGEMM = implicitAuto

const (
	implicitAuto = iota
	implicitNever
	implicitAlways
)

// implicitMinOutW is the narrowest output for which the forward pass packs
// from the images. On the shared 2-vCPU Zen 5 (docs/PERFORMANCE.md), with
// two goroutines, the seed CNN's conv1 (28 wide, K = 75: a 1.2 MB column
// matrix per chunk, past L2, for few flops per entry) ran 1.46-1.56x faster
// packed from the images; conv2 (10 wide, K = 800: short copies, KC slices
// that cut channels) ran between 0.96x and 1.10x, within the noise.
const implicitMinOutW = 16

// implicitForward reports whether the forward pass of p packs from the
// images.
func implicitForward(p *Conv2dParams) bool {
	return implicitGEMM == implicitAlways || implicitGEMM == implicitAuto && p.OutW() >= implicitMinOutW
}

// transposedForward reports whether the forward pass of p computes its
// output transposed, pixels as rows, reading the column matrix's
// transpose as the GEMM's A in place (kernels.SgemmConvAT), then
// transposes it: no column matrix, no packed panels of it, and the same
// bits. It needs a CPU with the in-place kernel, and room where the
// column matrix would go for the transposed output and, when p pads, a
// zero-padded copy of the chunk's images. On the shared 2-vCPU Zen 5 the
// seed CNN's conv2 ran 1.3x (one goroutine) and 1.37x (two) faster so
// (docs/PERFORMANCE.md).
func transposedForward(p *Conv2dParams) bool {
	// An unpadded column matrix (the copy makes every one so) is read in
	// place wherever the CPU has the kernel.
	if implicitGEMM == implicitNever || p.pointwise() || !(&kernels.ConvColumns{}).ReadsATInPlace() {
		return false
	}
	col, _ := p.workspaceSplit()
	return col >= p.chunk()*(p.OutH()*p.OutW()*(p.OutC/p.Groups)+paddedImageLen(p))
}

// implicitWeight reports whether the weight gradient of p packs from the
// images. Its A panels are transposes, so a block packed from the images
// is written row-major and transposed either way; on the seed CNN's layers
// that measured 0.76-1.20x (one goroutine) and 0.93-1.11x (two) against
// the whole column matrix, no clear gain. But where the GEMM reads A from
// the images with no panels at all (inPlaceWeight), the seed CNN's conv1
// ran 1.46x and conv2 1.2-1.26x faster (docs/PERFORMANCE.md), so the
// default takes that.
func implicitWeight(p *Conv2dParams) bool {
	switch implicitGEMM {
	case implicitAlways:
		return true
	case implicitNever:
		return false
	}
	return inPlaceWeight(p)
}

// inPlaceWeight reports whether the weight gradient's GEMM reads its A,
// the column matrix, in place (kernels.ConvColumns.ReadsAInPlace): a
// horizontal stride of 1 or 2, a CPU with the kernel, and, when p pads,
// room where the column matrix would go for a zero-padded copy of a
// chunk's images, which it reads instead.
func inPlaceWeight(p *Conv2dParams) bool {
	cols := kernels.ConvColumns{StrideW: p.StrideW}
	col, _ := p.workspaceSplit()
	return !p.pointwise() && cols.ReadsAInPlace() && col >= p.weightChunk()*paddedImageLen(p)
}

// paddedImageLen is the size of one image padded with p's zeros, or 0
// when p does not pad.
func paddedImageLen(p *Conv2dParams) int {
	if p.PadH == 0 && p.PadW == 0 {
		return 0
	}
	return p.C * (p.H + 2*p.PadH) * (p.W + 2*p.PadW)
}

// unpadded returns the chunk's images as the in-place kernels read them,
// with the geometry q of what it returns and the index of the chunk's
// first image in it: x itself when p does not pad, or else a copy padded
// with p's zeros written into scratch (paddedImageLen floats an image),
// read as an unpadded convolution of the larger images.
func (l *lowering) unpadded(x, scratch []float32) (xs []float32, q Conv2dParams, n0 int) {
	p := &l.p
	n := paddedImageLen(p)
	if n == 0 {
		return x, *p, l.n0
	}
	q = *p
	q.H, q.W, q.PadH, q.PadW = p.H+2*p.PadH, p.W+2*p.PadW, 0, 0
	img := p.C * p.H * p.W
	for j := range l.cnt {
		padImage(p, x[(l.n0+j)*img:][:img], scratch[j*n:][:n])
	}
	return scratch[:l.cnt*n], q, 0
}

// columns describes the column matrix of group gi of the chunk's images
// in x, for the implicit GEMMs.
func (l *lowering) columns(x []float32, gi int) kernels.ConvColumns {
	return columnsOf(&l.p, x, l.n0, l.cnt, gi)
}

// columnsOf describes the column matrix of group gi of the cnt images of
// geometry p in x from image n0.
func columnsOf(p *Conv2dParams, x []float32, n0, cnt, gi int) kernels.ConvColumns {
	cg, hw := p.C/p.Groups, p.H*p.W
	return kernels.ConvColumns{
		X: x[n0*p.C*hw+gi*cg*hw:], ImgStride: p.C * hw,
		N: cnt, C: cg, H: p.H, W: p.W, KH: p.KH, KW: p.KW,
		StrideH: p.StrideH, StrideW: p.StrideW, PadH: p.PadH, PadW: p.PadW,
		DilH: p.DilH, DilW: p.DilW, OutH: p.OutH(), OutW: p.OutW(),
	}
}

// perImage is how many units one image contributes to stage s.
func (l *lowering) perImage(s stage) int {
	switch s {
	case stageIm2col, stageCol2im:
		return l.p.C
	}
	return l.p.OutC
}

// run executes stage s over the whole chunk on the calling goroutine:
// the chunks themselves are what runs in parallel (parallel.go).
func (l *lowering) run(s stage) { l.runUnits(s, 0, l.cnt*l.perImage(s)) }

// runUnits executes units [u0, u1) of stage s, grouping consecutive units of one
// image into one call.
func (l *lowering) runUnits(s stage, u0, u1 int) {
	per := l.perImage(s)
	for u := u0; u < u1; {
		j, k0 := u/per, u%per
		k1 := min(per, k0+u1-u)
		l.runImage(s, j, k0, k1)
		u += k1 - k0
	}
}

// runImage executes units [k0, k1) of chunk image j.
func (l *lowering) runImage(s stage, j, k0, k1 int) {
	p := &l.p
	hw, ohw := p.H*p.W, p.OutH()*p.OutW()
	n := l.n0 + j
	inImg, outImg := p.C*hw, p.OutC*ohw
	switch s {
	case stageIm2col:
		im2col(p, l.x[n*inImg:(n+1)*inImg], l.col[j*ohw:], l.ld, k0, k1)
	case stageCol2im:
		dxi := l.dx[n*inImg : (n+1)*inImg]
		clear(dxi[k0*hw : k1*hw])
		col2im(p, l.col[j*ohw:], l.ld, dxi, k0, k1)
	case stageGather:
		img := l.dy[n*outImg : (n+1)*outImg]
		for o := k0; o < k1; o++ {
			copy(l.buf[o*l.ld+j*ohw:o*l.ld+(j+1)*ohw], img[o*ohw:(o+1)*ohw])
		}
	case stageScatter:
		img := l.y[n*outImg : (n+1)*outImg]
		for o := k0; o < k1; o++ {
			out := img[o*ohw : (o+1)*ohw]
			in := out
			if l.cnt > 1 {
				in = l.buf[o*l.ld+j*ohw : o*l.ld+(j+1)*ohw]
			}
			if l.bias == nil && !l.relu {
				copy(out, in) // the same bits as in+0: a sum from +0 is never -0
				continue
			}
			var b float32
			if l.bias != nil {
				b = l.bias[o]
			}
			kernels.BiasEpilogue(out, in, b, l.relu)
		}
	}
}
