package kernels

// This file holds the elementwise kernels of a training step: the ReLU
// gradient mask, the convolution epilogue (bias, optional ReLU), Adam's
// update and 2x2 max pooling. Each checks its lengths and runs whole
// 16-lane vectors in AVX-512 assembly where the CPU has it (step_amd64.go),
// the rest in the Go loops of step_generic.go, which give the same bits.
// It leaves out AVX2 versions: without AVX-512 the Go loops run.

import "fmt"

// ReLUMask zeroes dy[i] unless y[i] > 0, in place: the gradient of a ReLU
// whose output is y. Zero, negative and NaN outputs pass no gradient, as in
// PyTorch. It panics when the lengths differ.
func ReLUMask(y, dy []float32) {
	if len(y) != len(dy) {
		panic(fmt.Sprintf("kernels: ReLUMask: len(y)=%d != len(dy)=%d", len(y), len(dy)))
	}
	reluMask(y, dy)
}

// BiasEpilogue writes out[i] = in[i] + b, or with relu max(in[i]+b, 0):
// a NaN stays the same NaN and -0 becomes +0. out and in may be the
// same slice; in must be at least as long as out.
func BiasEpilogue(out, in []float32, b float32, relu bool) {
	if len(in) < len(out) {
		panic(fmt.Sprintf("kernels: BiasEpilogue: len(in)=%d < len(out)=%d", len(in), len(out)))
	}
	biasEpilogue(out, in[:len(out)], b, relu)
}

// AdamMode says how Adam applies weight decay.
type AdamMode uint8

const (
	AdamPlain     AdamMode = iota // no weight decay
	AdamL2                        // decay added to the gradient (torch.optim.Adam)
	AdamDecoupled                 // parameters shrunk first (torch.optim.AdamW)
)

// AdamCoef holds one Adam step's float32 coefficients.
type AdamCoef struct {
	B1, B2, C1, C2 float32 // beta1, beta2, 1-beta1, 1-beta2
	BC2Sqrt        float32 // sqrt(1 - beta2^t)
	NegStep        float32 // -lr / (1 - beta1^t)
	Eps            float32
	WD             float32 // AdamL2's weight decay
	Decay          float32 // AdamDecoupled's factor, 1 - lr*weight decay
	Maximize       bool    // the gradient negated first (maximize=True)
}

// AdamStep applies one Adam update to p with gradient g and moments m and
// v, in the operation order of PyTorch's single-tensor Adam:
// m = m*b1 + g*c1; v = v*b2 + (c2*g)*g; p += (-step*m) / (sqrt(v)/bc2 + eps),
// after g += wd*p (AdamL2) or p *= decay (AdamDecoupled). With
// c.Maximize the gradient is negated first, in update.go's Go loop. It
// panics when the lengths differ.
func AdamStep(mode AdamMode, p, g, m, v []float32, c *AdamCoef) {
	if len(g) != len(p) || len(m) != len(p) || len(v) != len(p) {
		panic(fmt.Sprintf("kernels: AdamStep: lengths %d, %d, %d, %d differ", len(p), len(g), len(m), len(v)))
	}
	kind := updateAdam
	if c.Maximize {
		kind = updateAdamFull
	}
	runUpdate(rangeTask{kind: kind, mode: mode, p: p, g: g, m: m, v: v, adam: *c}, len(p))
}

// MaxPool2x2 pools rows output rows of ow outputs each from input rows 2i
// and 2i+1 of the w-wide x into y and idx (rows after rows), with 2x2
// windows at stride 2, and writes to idx each winner's offset in its
// plane. Every planeRows output rows a plane ends, and the next plane's
// input rows follow on (its height is 2*planeRows). Ties go to the
// earliest tap in PyTorch's order (the top row's left, its right, the
// bottom row's left, its right), NaN beats every number and a later NaN an
// earlier one, as in PyTorch. It panics when a slice is too short.
func MaxPool2x2(x, y []float32, idx []int32, rows, planeRows, ow, w int) {
	if rows <= 0 || ow <= 0 {
		return
	}
	if planeRows <= 0 || w < 2*ow || len(y) < rows*ow || len(idx) < rows*ow || len(x) < (2*rows-1)*w+2*ow {
		panic(fmt.Sprintf("kernels: MaxPool2x2: %d rows (%d a plane) of %d outputs, width %d, slices of %d, %d and %d",
			rows, planeRows, ow, w, len(x), len(y), len(idx)))
	}
	maxPool2x2(x[:(2*rows-1)*w+2*ow], y[:rows*ow], idx[:rows*ow], rows, planeRows, ow, w)
}

// MaxPool2x2Back is MaxPool2x2's backward pass over rows output rows
// of ow outputs each (dy and idx, rows after rows): it overwrites columns
// [0, 2*ow) of input rows 2i and 2i+1 of the w-wide dx with the gradient
// each output sends to the tap its idx entry names and +0 everywhere else.
// Every planeRows output rows a plane ends; idx entries are offsets in
// their plane, as MaxPool2x2 writes them, and the next plane's input
// rows follow on (its height is 2*planeRows). The windows do not overlap,
// so this equals clearing those elements and adding each gradient to its
// tap, to the bit. An idx entry outside its window routes nothing. It
// panics when a slice is too short.
func MaxPool2x2Back(dy []float32, idx []int32, dx []float32, rows, planeRows, ow, w int) {
	if rows <= 0 || ow <= 0 {
		return
	}
	if planeRows <= 0 || w < 2*ow || len(dy) < rows*ow || len(idx) < rows*ow || len(dx) < (2*rows-1)*w+2*ow {
		panic(fmt.Sprintf("kernels: MaxPool2x2Back: %d rows (%d a plane) of %d outputs, width %d, slices of %d, %d and %d",
			rows, planeRows, ow, w, len(dy), len(idx), len(dx)))
	}
	maxPool2x2Back(dy[:rows*ow], idx[:rows*ow], dx[:(2*rows-1)*w+2*ow], rows, planeRows, ow, w)
}

// MaxKey maps a float's bits to an integer that orders like the float,
// with -0 equal to +0 and every NaN above every number, later NaNs (higher
// rank) above earlier ones. PyTorch's "replace on greater or NaN" then
// becomes one integer comparison, which compiles to conditional moves:
// random data makes float comparisons' branches unpredictable.
func MaxKey(bits uint32, rank int32) int32 {
	b := int32(bits)
	s := b >> 31
	mag := b & 0x7fffffff
	k := (mag ^ s) - s
	nan := (0x7f800000 - mag) >> 31 // all ones for a NaN
	return k&^nan | (0x7fc00000+rank)&nan
}

// CopyRows copies rows rows of n floats from src to dst, row r from
// src[r*srcStride:] to dst[r*dstStride:]: im2col's inner loop. It panics
// when a slice is too short.
func CopyRows(dst, src []float32, n, rows, dstStride, srcStride int) {
	CopyPlaneRows(dst, src, n, rows, dstStride, srcStride, 1, 0, 0)
}

// AddRows is CopyRows adding into dst instead: col2im's inner loop.
func AddRows(dst, src []float32, n, rows, dstStride, srcStride int) {
	AddPlaneRows(dst, src, n, rows, dstStride, srcStride, 1, 0, 0)
}

// CopyPlaneRows is CopyRows over planes planes, plane q's rows starting
// at src[q*srcPlane:] and dst[q*dstPlane:]: im2col's rows of one tap for
// every channel in one call.
func CopyPlaneRows(dst, src []float32, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane int) {
	checkRows("CopyPlaneRows", dst, src, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane)
	moveRows(dst, src, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane, false)
}

// AddPlaneRows is CopyPlaneRows adding into dst: col2im's loop.
func AddPlaneRows(dst, src []float32, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane int) {
	checkRows("AddPlaneRows", dst, src, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane)
	moveRows(dst, src, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane, true)
}

func checkRows(name string, dst, src []float32, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane int) {
	if n < 0 || rows < 0 || dstStride < 0 || srcStride < 0 || planes < 0 || dstPlane < 0 || srcPlane < 0 {
		panic(fmt.Sprintf("kernels: %s: negative size n=%d rows=%d planes=%d strides %d, %d, %d, %d", name, n, rows, planes, dstStride, srcStride, dstPlane, srcPlane))
	}
	if rows > 0 && n > 0 && planes > 0 && (len(dst) < (planes-1)*dstPlane+(rows-1)*dstStride+n || len(src) < (planes-1)*srcPlane+(rows-1)*srcStride+n) {
		panic(fmt.Sprintf("kernels: %s: %d planes of %d rows of %d do not fit slices of %d and %d",
			name, planes, rows, n, len(dst), len(src)))
	}
}

// SGDCoef holds one SGD step's coefficients and options.
type SGDCoef struct {
	LR, WD, Momentum, Damp float32 // Damp is 1 - dampening
	First, Nesterov        bool    // the first step (the buffer starts as the gradient); Nesterov momentum
	Maximize               bool    // the gradient negated first (maximize=True)
}

// SGDStep applies one torch.optim.SGD update to p with gradient g and, when
// c.Momentum is not zero, the momentum buffer buf, in the operation order
// of PyTorch's single-tensor SGD: g += wd*p (when wd is not zero); buf = g
// on the first step, else momentum*buf + damp*g; g = buf, or g +
// momentum*buf with Nesterov; p -= lr*g. With c.Maximize the gradient
// is negated first, in the Go loop. It panics when the lengths differ.
func SGDStep(p, g, buf []float32, c *SGDCoef) {
	if len(g) != len(p) || (c.Momentum != 0 && len(buf) != len(p)) {
		panic(fmt.Sprintf("kernels: SGDStep: lengths %d, %d, %d differ", len(p), len(g), len(buf)))
	}
	if c.Momentum == 0 {
		buf = p // not read or written
	}
	runUpdate(rangeTask{kind: updateSGD, p: p, g: g, m: buf, sgd: *c}, len(p))
}
