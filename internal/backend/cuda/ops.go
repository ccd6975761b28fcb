//go:build cuda

package cuda

// This file is the backend's ops: cuBLAS for the GEMMs, kernelsrc's
// kernels for the rest, all queued on the backend's stream. The
// normalisation and pooling ops are in norm.go, the updates in update.go.

import (
	"github.com/kiln-ml/kiln/internal/backend"
	cu "github.com/kiln-ml/kiln/internal/cuda"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

const block = 256

// launch queues kernel name over n threads (grid-stride kernels).
func (b *Backend) launch(name string, n int, args ...any) {
	b.launchGrid(name, cu.Grid1D(max(min(n, 1<<24), 1), block), cu.Dim3{X: block, Y: 1, Z: 1}, args...)
}

func (b *Backend) launchGrid(name string, grid, blk cu.Dim3, args ...any) {
	if b.err != nil {
		return
	}
	f, ok := b.funcs[name]
	if !ok {
		var err error
		if f, err = b.mod.Function(name); err != nil {
			b.keep(err)
			return
		}
		b.funcs[name] = f
	}
	b.keep(b.s.Launch(f, grid, blk, 0, args...))
}

func boolArg(v bool) int32 {
	if v {
		return 1
	}
	return 0
}

// Fill sets x to v.
func (b *Backend) Fill(x backend.Buffer, v float32) {
	if x.Len() > 0 {
		b.launch("fill_f32", x.Len(), ptr(x), v, x.Len())
	}
}

// Axpy computes y += alpha*x.
func (b *Backend) Axpy(alpha float32, x, y backend.Buffer) {
	backend.MustLen("Axpy", "y", y.Len(), x.Len())
	b.launch("axpy_f32", x.Len(), ptr(y), ptr(x), alpha, x.Len())
}

// Sgemm runs cuBLAS SGEMM on row-major operands.
func (b *Backend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a backend.Buffer, lda int, bm backend.Buffer, ldb int, beta float32, c backend.Buffer, ldc int) {
	b.sgemm(transA, transB, m, n, k, alpha, ptr(a), lda, ptr(bm), ldb, beta, ptr(c), ldc)
}

func (b *Backend) sgemm(transA, transB bool, m, n, k int, alpha float32, a cu.DevicePtr, lda int, bm cu.DevicePtr, ldb int, beta float32, c cu.DevicePtr, ldc int) {
	if b.err != nil || m == 0 || n == 0 {
		return
	}
	b.keep(b.blas.Sgemm(transA, transB, m, n, k, alpha, view(a, 0), lda, view(bm, 0), ldb, beta, view(c, 0), ldc))
}

// convGeometry is the integers every lowering kernel takes.
func convArgs(p *conv.Conv2dParams) []any {
	return []any{p.N, p.C, p.H, p.W, p.KH, p.KW, p.PadH, p.PadW, p.StrideH, p.StrideW, p.DilH, p.DilW, p.OutH(), p.OutW()}
}

// convScratch returns the column matrix (C*KH*KW x N*OH*OW) and, after
// it, a staging matrix of OutC x N*OH*OW.
func (b *Backend) convScratch(p *conv.Conv2dParams) (col, stage cu.DevicePtr) {
	cols := p.N * p.OutH() * p.OutW()
	colN := p.C * p.KH * p.KW * cols
	base := b.workspace(colN + p.OutC*cols)
	return base, base + cu.DevicePtr(4*colN)
}

// Conv2dForward: im2col over the batch, one GEMM per group into the
// staging matrix, then the scatter with bias and ReLU.
func (b *Backend) Conv2dForward(p conv.Conv2dParams, x, w, bias, y backend.Buffer, relu bool) {
	col, stage := b.convScratch(&p)
	if col == 0 {
		return
	}
	cols := p.N * p.OutH() * p.OutW()
	b.launch("im2col_batch", p.N*p.C*p.OutH()*p.OutW(), append([]any{col, ptr(x)}, convArgs(&p)...)...)
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	for gi := range g {
		b.sgemm(false, false, ocg, cols, kg, 1, ptr(w)+cu.DevicePtr(4*gi*ocg*kg), kg,
			col+cu.DevicePtr(4*gi*kg*cols), cols, 0, stage+cu.DevicePtr(4*gi*ocg*cols), cols)
	}
	bp := ptr(bias)
	if bp == 0 {
		bp = ptr(w) // not read
	}
	hw := p.OutH() * p.OutW()
	b.launch("cn_to_nchw", y.Len(), ptr(y), stage, bp, boolArg(!bias.IsNil()), boolArg(relu), p.N, p.OutC, hw)
}

// Conv2dBackwardData: dy gathered to OutC x N*OH*OW, the transposed GEMM
// per group into the column matrix, then col2im.
func (b *Backend) Conv2dBackwardData(p conv.Conv2dParams, dy, w, dx backend.Buffer) {
	col, stage := b.convScratch(&p)
	if col == 0 {
		return
	}
	cols := p.N * p.OutH() * p.OutW()
	b.launch("nchw_to_cn", dy.Len(), stage, ptr(dy), p.N, p.OutC, p.OutH()*p.OutW())
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	for gi := range g {
		b.sgemm(true, false, kg, cols, ocg, 1, ptr(w)+cu.DevicePtr(4*gi*ocg*kg), kg,
			stage+cu.DevicePtr(4*gi*ocg*cols), cols, 0, col+cu.DevicePtr(4*gi*kg*cols), cols)
	}
	b.launch("col2im_batch", dx.Len(), append([]any{ptr(dx), col}, convArgs(&p)...)...)
}

// Conv2dBackwardWeight: im2col, dy gathered, dw += dy_g col_g^T per
// group; the bias gradient sums dy per channel.
func (b *Backend) Conv2dBackwardWeight(p conv.Conv2dParams, x, dy, dw, dbias backend.Buffer) {
	col, stage := b.convScratch(&p)
	if col == 0 {
		return
	}
	cols := p.N * p.OutH() * p.OutW()
	b.launch("im2col_batch", p.N*p.C*p.OutH()*p.OutW(), append([]any{col, ptr(x)}, convArgs(&p)...)...)
	b.launch("nchw_to_cn", dy.Len(), stage, ptr(dy), p.N, p.OutC, p.OutH()*p.OutW())
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	for gi := range g {
		b.sgemm(false, true, ocg, kg, cols, 1, stage+cu.DevicePtr(4*gi*ocg*cols), cols,
			col+cu.DevicePtr(4*gi*kg*cols), cols, 1, ptr(dw)+cu.DevicePtr(4*gi*ocg*kg), kg)
	}
	if !dbias.IsNil() {
		b.launchGrid("bias_grad_nchw", cu.Dim3{X: uint32(p.OutC), Y: 1, Z: 1}, cu.Dim3{X: block, Y: 1, Z: 1},
			ptr(dbias), ptr(dy), p.N, p.OutC, p.OutH()*p.OutW())
	}
}

// ReLUMask zeroes dy where y <= 0, in place.
func (b *Backend) ReLUMask(y, dy backend.Buffer) {
	backend.MustLen("ReLUMask", "dy", dy.Len(), y.Len())
	b.launch("relu_bwd", y.Len(), ptr(dy), ptr(y), ptr(dy), y.Len())
}

// MaxPool2dForward runs the general max pool.
func (b *Backend) MaxPool2dForward(p conv.MaxPool2dParams, x, y backend.Buffer, idx backend.IntBuffer) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	backend.MustLen("MaxPool2dForward", "y", y.Len(), p.N*p.C*p.OutH()*p.OutW())
	b.launch("maxpool_fwd", y.Len(), ptr(y), iptr(idx), ptr(x), p.N*p.C, p.H, p.W, p.OutH(), p.OutW(),
		p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW, p.DilH, p.DilW)
}

// MaxPool2dBackward adds dy into dx at idx.
func (b *Backend) MaxPool2dBackward(p conv.MaxPool2dParams, dy backend.Buffer, idx backend.IntBuffer, dx backend.Buffer) {
	backend.MustLen("MaxPool2dBackward", "dx", dx.Len(), p.N*p.C*p.H*p.W)
	b.launch("maxpool_bwd_acc", dy.Len(), ptr(dx), iptr(idx), ptr(dy), p.N*p.C, p.H*p.W, p.OutH()*p.OutW())
}

// BiasAdd adds bias to each row of y.
func (b *Backend) BiasAdd(y, bias backend.Buffer, rows, cols int) {
	backend.MustLen("BiasAdd", "y", y.Len(), rows*cols)
	b.launch("bias_add_rows", y.Len(), ptr(y), ptr(bias), cols, y.Len())
}

// BiasGrad adds dy's column sums into db.
func (b *Backend) BiasGrad(dy, db backend.Buffer, rows, cols int) {
	backend.MustLen("BiasGrad", "dy", dy.Len(), rows*cols)
	b.launch("bias_grad_rows", cols, ptr(db), ptr(dy), rows, cols)
}

// unary launches an activation's forward kernel, y = f(x).
func (b *Backend) unary(op, kernel string, x, y backend.Buffer) {
	backend.MustLen(op, "y", y.Len(), x.Len())
	b.launch(kernel, x.Len(), ptr(y), ptr(x), x.Len())
}

// unaryGrad launches an activation's backward kernel, which adds dy
// times f'(x), given as a function of y, to dx.
func (b *Backend) unaryGrad(op, kernel string, y, dy, dx backend.Buffer) {
	backend.MustLen(op, "dy", dy.Len(), y.Len())
	backend.MustLen(op, "dx", dx.Len(), y.Len())
	b.launch(kernel, y.Len(), ptr(dx), ptr(y), ptr(dy), y.Len())
}

// ReLU writes max(x, 0) to y.
func (b *Backend) ReLU(x, y backend.Buffer) { b.unary("ReLU", "relu_fwd", x, y) }

// ReLUGrad adds dy to dx where y > 0.
func (b *Backend) ReLUGrad(y, dy, dx backend.Buffer) {
	b.unaryGrad("ReLUGrad", "relu_grad_acc", y, dy, dx)
}

// Sigmoid writes 1/(1+exp(-x)) to y.
func (b *Backend) Sigmoid(x, y backend.Buffer) { b.unary("Sigmoid", "sigmoid_fwd", x, y) }

// SigmoidGrad adds dy*y*(1-y) to dx.
func (b *Backend) SigmoidGrad(y, dy, dx backend.Buffer) {
	b.unaryGrad("SigmoidGrad", "sigmoid_grad_acc", y, dy, dx)
}

// Tanh writes tanh(x) to y.
func (b *Backend) Tanh(x, y backend.Buffer) { b.unary("Tanh", "tanh_fwd", x, y) }

// TanhGrad adds dy*(1-y*y) to dx.
func (b *Backend) TanhGrad(y, dy, dx backend.Buffer) {
	b.unaryGrad("TanhGrad", "tanh_grad_acc", y, dy, dx)
}

// Dropout writes y = x*mask.
func (b *Backend) Dropout(x, mask, y backend.Buffer) {
	backend.MustLen("Dropout", "y", y.Len(), x.Len())
	b.launch("mul_f32", x.Len(), ptr(y), ptr(x), ptr(mask), x.Len())
}

// DropoutGrad adds dy*mask to dx.
func (b *Backend) DropoutGrad(dy, mask, dx backend.Buffer) {
	backend.MustLen("DropoutGrad", "dx", dx.Len(), dy.Len())
	b.launch("mul_acc_f32", dy.Len(), ptr(dx), ptr(dy), ptr(mask), dy.Len())
}

// CrossEntropy: one warp per row (xent_rows), then one block sums the
// rows (xent_sum).
func (b *Backend) CrossEntropy(logits backend.Buffer, labels backend.IntBuffer, n, c int, logp backend.Buffer, preds backend.IntBuffer, out backend.Buffer) {
	backend.MustLen("CrossEntropy", "logits", logits.Len(), n*c)
	backend.MustLen("CrossEntropy", "out", out.Len(), 2)
	rows := b.workspace(2 * n)
	if rows == 0 {
		return
	}
	b.launchGrid("xent_rows", cu.Grid1D(32*n, block), cu.Dim3{X: block, Y: 1, Z: 1},
		ptr(logp), iptr(preds), rows, rows+cu.DevicePtr(4*n), ptr(logits), iptr(labels), n, c)
	b.launchGrid("xent_sum", cu.Dim3{X: 1, Y: 1, Z: 1}, cu.Dim3{X: 1024, Y: 1, Z: 1}, ptr(out), rows, rows+cu.DevicePtr(4*n), n)
}

// CrossEntropyGrad adds (exp(logp) - onehot)*scale to dx.
func (b *Backend) CrossEntropyGrad(logp backend.Buffer, labels backend.IntBuffer, n, c int, scale float32, dx backend.Buffer) {
	backend.MustLen("CrossEntropyGrad", "dx", dx.Len(), n*c)
	b.launch("xent_grad_acc", n*c, ptr(dx), ptr(logp), iptr(labels), scale, n, c)
}
