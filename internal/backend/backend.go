package backend

// This file holds the seam itself: the buffers and the Backend interface.
// The reference implementation is in cpu.go and cpu_ops.go.

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

// Buffer is a range of float32s in one backend's memory: the allocation
// (whatever the backend put there), an offset and a length, in elements.
// Buffers are values; Slice makes a view without copying. The zero Buffer
// is "none", for an absent bias.
type Buffer struct {
	mem    any
	off, n int
}

// NewBuffer is for backends: it wraps the allocation mem as a buffer of n
// elements from off.
func NewBuffer(mem any, off, n int) Buffer { return Buffer{mem: mem, off: off, n: n} }

// Mem returns the backend's allocation behind b (nil for none).
func (b Buffer) Mem() any { return b.mem }

// Off returns b's first element's offset in its allocation.
func (b Buffer) Off() int { return b.off }

// Len returns the number of float32s in b.
func (b Buffer) Len() int { return b.n }

// IsNil reports whether b is the zero Buffer.
func (b Buffer) IsNil() bool { return b.mem == nil }

// Slice returns elements [lo, hi) of b as a view. It panics when the range
// is outside b.
func (b Buffer) Slice(lo, hi int) Buffer {
	if lo < 0 || hi < lo || hi > b.n {
		panic(fmt.Sprintf("backend: slice [%d:%d] of a buffer of %d", lo, hi, b.n))
	}
	return Buffer{mem: b.mem, off: b.off + lo, n: hi - lo}
}

// IntBuffer is a range of int32s in one backend's memory: max-pool
// indices, class labels and predictions.
type IntBuffer struct {
	mem    any
	off, n int
}

// NewIntBuffer is for backends: it wraps mem as n int32s from off.
func NewIntBuffer(mem any, off, n int) IntBuffer { return IntBuffer{mem: mem, off: off, n: n} }

// Mem returns the backend's allocation behind b.
func (b IntBuffer) Mem() any { return b.mem }

// Off returns b's first element's offset in its allocation.
func (b IntBuffer) Off() int { return b.off }

// Len returns the number of int32s in b.
func (b IntBuffer) Len() int { return b.n }

// Slice returns elements [lo, hi) of b as a view.
func (b IntBuffer) Slice(lo, hi int) IntBuffer {
	if lo < 0 || hi < lo || hi > b.n {
		panic(fmt.Sprintf("backend: slice [%d:%d] of an int buffer of %d", lo, hi, b.n))
	}
	return IntBuffer{mem: b.mem, off: b.off + lo, n: hi - lo}
}

// Backend runs a training step's ops on one device. A Backend is used by
// one goroutine at a time.
type Backend interface {
	// Name is what the command line calls the backend ("cpu", "cuda").
	Name() string
	// Alloc returns n zeroed float32s; AllocInts n zeroed int32s.
	Alloc(n int) (Buffer, error)
	AllocInts(n int) (IntBuffer, error)
	// Free and FreeInts release what Alloc and AllocInts returned (not
	// views of it).
	Free(b Buffer)
	FreeInts(b IntBuffer)
	// Upload copies src (len(src) == dst.Len()) into dst; Download copies
	// src into dst. Both wait for the ops queued before them and return
	// the first error since the last Sync.
	Upload(dst Buffer, src []float32) error
	UploadInts(dst IntBuffer, src []int32) error
	Download(dst []float32, src Buffer) error
	DownloadInts(dst []int32, src IntBuffer) error
	// Sync waits for every queued op and returns the first error since the
	// last Sync.
	Sync() error
	// Close releases the device; the backend is unusable afterwards.
	Close() error

	// Fill sets every element of x to v.
	Fill(x Buffer, v float32)
	// Axpy computes y += alpha*x.
	Axpy(alpha float32, x, y Buffer)
	// Sgemm is kernels.Sgemm over buffers: C = alpha*op(A)*op(B) + beta*C,
	// row-major, with leading dimensions; beta == 0 overwrites C.
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda int, b Buffer, ldb int, beta float32, c Buffer, ldc int)

	// Conv2dForward overwrites y with the convolution of x by w plus bias
	// (none when bias.IsNil()), then max(y, 0) when relu is set.
	Conv2dForward(p conv.Conv2dParams, x, w, bias, y Buffer, relu bool)
	// Conv2dBackwardData overwrites dx with the gradient for the input.
	Conv2dBackwardData(p conv.Conv2dParams, dy, w, dx Buffer)
	// Conv2dBackwardWeight adds the weight gradient into dw and the bias
	// gradient into dbias (skipped when dbias.IsNil()).
	Conv2dBackwardWeight(p conv.Conv2dParams, x, dy, dw, dbias Buffer)
	// ReLUMask zeroes dy in place wherever y <= 0 (or is NaN): the backward
	// of Conv2dForward's fused ReLU.
	ReLUMask(y, dy Buffer)

	// MaxPool2dForward overwrites y with the window maxima of x and idx
	// with each one's offset in its input plane.
	MaxPool2dForward(p conv.MaxPool2dParams, x, y Buffer, idx IntBuffer)
	// MaxPool2dBackward adds each dy to dx at the offset idx names.
	MaxPool2dBackward(p conv.MaxPool2dParams, dy Buffer, idx IntBuffer, dx Buffer)

	// BiasAdd adds bias (cols) to every row of y (rows x cols) in place.
	BiasAdd(y, bias Buffer, rows, cols int)
	// BiasGrad adds dy's column sums (rows x cols) into db (cols).
	BiasGrad(dy, db Buffer, rows, cols int)

	// ReLU writes max(x, 0) to y, NaN kept.
	ReLU(x, y Buffer)
	// ReLUGrad adds dy to dx wherever y > 0.
	ReLUGrad(y, dy, dx Buffer)
	// Sigmoid writes 1/(1+exp(-x)) to y; SigmoidGrad adds dy*y*(1-y),
	// given the output y, to dx.
	Sigmoid(x, y Buffer)
	SigmoidGrad(y, dy, dx Buffer)
	// Tanh writes tanh(x) to y; TanhGrad adds dy*(1-y*y), given the
	// output y, to dx.
	Tanh(x, y Buffer)
	TanhGrad(y, dy, dx Buffer)

	// Dropout writes y = x*mask (the mask holds 0 or 1/(1-p)).
	Dropout(x, mask, y Buffer)
	// DropoutGrad adds dy*mask to dx.
	DropoutGrad(dy, mask, dx Buffer)

	// CrossEntropy takes logits (n x c) and labels (n): it writes the
	// log-probabilities to logp, each row's arg-max (the first maximum, a
	// NaN beating numbers) to preds, and to out (2 elements) the mean
	// negative log-likelihood and the number of rows whose arg-max is the
	// label.
	CrossEntropy(logits Buffer, labels IntBuffer, n, c int, logp Buffer, preds IntBuffer, out Buffer)
	// CrossEntropyGrad adds to dx (n x c) the gradient of scale times the
	// summed negative log-likelihood, given CrossEntropy's logp: scale is
	// 1/n for the mean.
	CrossEntropyGrad(logp Buffer, labels IntBuffer, n, c int, scale float32, dx Buffer)

	// Add writes y = a + b: the residual sum. Its backward is Axpy(1, dy,
	// da) and Axpy(1, dy, db).
	Add(a, b, y Buffer)

	// BatchNormForward normalises x (N x C x Spatial) per channel into y,
	// as autograd's BatchNorm does (PyTorch's F.batch_norm): with
	// p.Training by the batch's mean and biased variance, moving runMean
	// and runVar (when not IsNil) toward the mean and the unbiased
	// variance by p.Momentum; without it by runMean and runVar. weight
	// and bias (C) may be none. saved (2C) receives each channel's mean
	// and 1/sqrt(var+eps), for the backward.
	BatchNormForward(p BatchNormParams, x, weight, bias, runMean, runVar, y, saved Buffer)
	// BatchNormBackward adds the gradients for x, weight and bias into
	// dx, dw and db (each skipped when IsNil), given the forward's saved.
	BatchNormBackward(p BatchNormParams, x, dy, weight, saved, dx, dw, db Buffer)

	// AdaptiveAvgPool2dForward overwrites y with the means of x's
	// adaptive windows (global average pooling at 1x1).
	AdaptiveAvgPool2dForward(p conv.AdaptiveAvgPool2dParams, x, y Buffer)
	// AdaptiveAvgPool2dBackward adds each dy, spread evenly over its
	// window, into dx.
	AdaptiveAvgPool2dBackward(p conv.AdaptiveAvgPool2dParams, dy, dx Buffer)
	// AvgPool2dForward overwrites y with the window means of x, padding,
	// ceil mode and divisor as conv.AvgPool2dForward has them.
	AvgPool2dForward(p conv.AvgPool2dParams, x, y Buffer)
	// AvgPool2dBackward adds each dy, divided as the forward divides,
	// into every in-bounds input of its window.
	AvgPool2dBackward(p conv.AvgPool2dParams, dy, dx Buffer)

	// ClipGradNorm scales g so that its L2 norm is at most maxNorm, as
	// optim.ClipGradNorm(g, maxNorm, 2) does: by maxNorm/(norm+1e-6) when
	// that is below 1. The norm stays on the device.
	ClipGradNorm(g Buffer, maxNorm float64)

	// AdamStep is kernels.AdamStep over p, g, m and v, or with vmax
	// (not IsNil: amsgrad's running maximum of v)
	// kernels.AdamAMSGradStep. c.Maximize negates the gradient.
	AdamStep(mode kernels.AdamMode, p, g, m, v, vmax Buffer, c kernels.AdamCoef)
	// SGDStep is kernels.SGDStep over p, g and buf (buf unused without
	// momentum).
	SGDStep(p, g, buf Buffer, c kernels.SGDCoef)
	// RMSpropStep is kernels.RMSpropStep over p, g and sq, with avg
	// (centered) and buf (momentum) each none when unused.
	RMSpropStep(p, g, sq, avg, buf Buffer, c kernels.RMSpropCoef)
}

// BatchNormParams describe a batch normalisation: N examples of C
// channels of Spatial values each (1 for BatchNorm1d on (N, C)), the mode,
// and PyTorch's momentum and eps.
type BatchNormParams struct {
	N, C, Spatial int
	Training      bool
	Momentum, Eps float32
}

// Len returns the number of values normalised, N*C*Spatial.
func (p BatchNormParams) Len() int { return p.N * p.C * p.Spatial }

// MustLen panics unless b holds want elements: backends check every
// operand with it.
func MustLen(op, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("backend: %s: %s has %d elements, want %d", op, name, got, want))
	}
}
