package tensor

import (
	"math"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// This file holds the unary elementwise ops and the scalar helpers they share
// with autograd. It leaves out broadcasting, which only binary ops need.

type unOp uint8

const (
	opIdentity unOp = iota
	opNeg
	opExp
	opLog
	opSqrt
	opAbs
	opTanh
	opSigmoid
	opReLU
	opLeakyReLU
	opAddScalar
	opMulScalar
	opPowScalar
	opClamp
	opGELU
	opGELUTanh
)

// Neg sets dst = -src.
func Neg(dst, src *Tensor) *Tensor { return unary(opNeg, 0, 0, dst, src) }

// Exp sets dst = exp(src).
func Exp(dst, src *Tensor) *Tensor { return unary(opExp, 0, 0, dst, src) }

// Log sets dst = ln(src).
func Log(dst, src *Tensor) *Tensor { return unary(opLog, 0, 0, dst, src) }

// Sqrt sets dst = sqrt(src).
func Sqrt(dst, src *Tensor) *Tensor { return unary(opSqrt, 0, 0, dst, src) }

// Abs sets dst = |src|.
func Abs(dst, src *Tensor) *Tensor { return unary(opAbs, 0, 0, dst, src) }

// Tanh sets dst = tanh(src).
func Tanh(dst, src *Tensor) *Tensor { return unary(opTanh, 0, 0, dst, src) }

// Sigmoid sets dst = 1/(1+exp(-src)), computed without overflow.
func Sigmoid(dst, src *Tensor) *Tensor { return unary(opSigmoid, 0, 0, dst, src) }

// ReLU sets dst = max(src, 0); NaN propagates as in PyTorch.
func ReLU(dst, src *Tensor) *Tensor { return unary(opReLU, 0, 0, dst, src) }

// LeakyReLU sets dst = src for src > 0 and slope*src otherwise.
func LeakyReLU(dst, src *Tensor, slope float32) *Tensor {
	return unary(opLeakyReLU, slope, 0, dst, src)
}

// GELU sets dst = x*Phi(x) (exact, with erf); tanhApprox selects PyTorch's
// approximate='tanh' form.
func GELU(dst, src *Tensor, tanhApprox bool) *Tensor {
	if tanhApprox {
		return unary(opGELUTanh, 0, 0, dst, src)
	}
	return unary(opGELU, 0, 0, dst, src)
}

// AddScalar sets dst = src + c.
func AddScalar(dst, src *Tensor, c float32) *Tensor { return unary(opAddScalar, c, 0, dst, src) }

// MulScalar sets dst = src * c.
func MulScalar(dst, src *Tensor, c float32) *Tensor { return unary(opMulScalar, c, 0, dst, src) }

// PowScalar sets dst = src ** p.
func PowScalar(dst, src *Tensor, p float32) *Tensor { return unary(opPowScalar, p, 0, dst, src) }

// Clamp sets dst = min(max(src, lo), hi).
func Clamp(dst, src *Tensor, lo, hi float32) *Tensor { return unary(opClamp, lo, hi, dst, src) }

func unary(op unOp, p, q float32, dst, src *Tensor) *Tensor {
	dst = dest(dst, src.Shape(), "unary op")
	checkAlias("unary op", dst, src)
	st := [3][MaxDims]int{dst.strides, src.strides, src.strides}
	w := newWalker(src.shape, src.ndim, st, [3]int{dst.off, src.off, src.off})
	for r := 0; r < w.rows; r++ {
		d, s := dst.data[w.off[0]:], src.data[w.off[1]:]
		if w.inc[0] == 1 && w.inc[1] == 1 {
			unaryLoop(op, p, q, d[:w.n], s)
		} else {
			for k, id, is := 0, 0, 0; k < w.n; k, id, is = k+1, id+w.inc[0], is+w.inc[1] {
				d[id] = apply(op, p, q, s[is])
			}
		}
		w.next()
	}
	return dst
}

// unaryLoop applies op to contiguous slices.
func unaryLoop(op unOp, p, q float32, d, s []float32) {
	s = s[:len(d)]
	switch op {
	case opIdentity:
		copy(d, s)
	case opNeg:
		for i, v := range s {
			d[i] = -v
		}
	case opReLU:
		ReLUSlice(d, s)
	case opAddScalar:
		for i, v := range s {
			d[i] = v + p
		}
	case opMulScalar:
		for i, v := range s {
			d[i] = v * p
		}
	default:
		for i, v := range s {
			d[i] = apply(op, p, q, v)
		}
	}
}

// apply is the scalar form of each unary op; float64 intermediates keep the
// transcendental functions accurate to float32 rounding.
func apply(op unOp, p, q float32, v float32) float32 {
	switch op {
	case opIdentity:
		return v
	case opNeg:
		return -v
	case opExp:
		return float32(math.Exp(float64(v)))
	case opLog:
		return float32(math.Log(float64(v)))
	case opSqrt:
		return float32(math.Sqrt(float64(v)))
	case opAbs:
		return float32(math.Abs(float64(v)))
	case opTanh:
		return float32(math.Tanh(float64(v)))
	case opSigmoid:
		return SigmoidScalar(v)
	case opReLU:
		if v > 0 || v != v {
			return v
		}
		return 0
	case opLeakyReLU:
		if v > 0 || v != v {
			return v
		}
		return v * p
	case opAddScalar:
		return v + p
	case opMulScalar:
		return v * p
	case opPowScalar:
		return float32(math.Pow(float64(v), float64(p)))
	case opClamp:
		// In this order, lo > hi gives hi, as torch.clamp does.
		if v < p {
			v = p
		}
		if v > q {
			v = q
		}
		return v
	case opGELU:
		x := float64(v)
		return float32(0.5 * x * (1 + math.Erf(x/math.Sqrt2)))
	case opGELUTanh:
		x := float64(v)
		return float32(0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x))))
	}
	panic("tensor: unknown unary op")
}

// SigmoidScalar returns 1/(1+exp(-v)) without overflow for large |v|.
func SigmoidScalar(v float32) float32 {
	x := float64(v)
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-x)))
	}
	e := math.Exp(x)
	return float32(e / (1 + e))
}

// ReLUSlice sets d[i] = max(s[i], 0) with NaN propagating, as torch.relu.
// It works on the bits, without branches (kernels.ReLU): a sign bit clears
// the value unless the value is a NaN. Branches would mispredict on the
// half-negative inputs a network produces and cost more than the
// arithmetic.
func ReLUSlice(d, s []float32) { kernels.ReLU(d, s) }

// ReLUGradSlice adds dy[i] to dx[i] wherever the ReLU output y[i] is > 0 (not
// zero, negative zero or NaN), without branches.
func ReLUGradSlice(dx, dy, y []float32) { kernels.ReLUGradAdd(dx, dy, y) }
