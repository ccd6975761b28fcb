package tensor

import "fmt"

// This file holds the binary elementwise ops with NumPy/PyTorch broadcasting.
// The op is switched on once per row, never per element; the inner loops run
// along the walker's rows with per-operand strides (0 for a broadcast
// operand). Unary ops live in unary.go.

type binOp uint8

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opMaximum
	opMinimum
)

// Add sets dst = a + b with broadcasting and returns dst (allocated when nil).
func Add(dst, a, b *Tensor) *Tensor { return binary(opAdd, dst, a, b) }

// Sub sets dst = a - b with broadcasting.
func Sub(dst, a, b *Tensor) *Tensor { return binary(opSub, dst, a, b) }

// Mul sets dst = a * b with broadcasting.
func Mul(dst, a, b *Tensor) *Tensor { return binary(opMul, dst, a, b) }

// Div sets dst = a / b with broadcasting.
func Div(dst, a, b *Tensor) *Tensor { return binary(opDiv, dst, a, b) }

// Maximum sets dst = max(a, b) elementwise with broadcasting; NaN propagates.
func Maximum(dst, a, b *Tensor) *Tensor { return binary(opMaximum, dst, a, b) }

// Minimum sets dst = min(a, b) elementwise with broadcasting; NaN propagates.
func Minimum(dst, a, b *Tensor) *Tensor { return binary(opMinimum, dst, a, b) }

func binary(op binOp, dst, a, b *Tensor) *Tensor {
	shape, nd, ok := broadcastShape(a.Shape(), b.Shape())
	if !ok {
		panic(fmt.Sprintf("tensor: shapes %v and %v do not broadcast", a.Shape(), b.Shape()))
	}
	dst = dest(dst, shape[:nd], "binary op")
	checkAlias("binary op", dst, a)
	checkAlias("binary op", dst, b)
	st := [3][MaxDims]int{dst.strides, a.stridesFor(shape, nd), b.stridesFor(shape, nd)}
	w := newWalker(shape, nd, st, [3]int{dst.off, a.off, b.off})
	for r := 0; r < w.rows; r++ {
		binLoop(op, w.n, dst.data[w.off[0]:], w.inc[0], a.data[w.off[1]:], w.inc[1], b.data[w.off[2]:], w.inc[2])
		w.next()
	}
	return dst
}

// binLoop runs op over one row. The unit-stride row and the row against a
// broadcast scalar (a bias) get their own loops, which the compiler keeps
// free of bounds checks.
func binLoop(op binOp, n int, d []float32, sd int, a []float32, sa int, b []float32, sb int) {
	if sd != 1 || op >= opMaximum {
		binStrided(op, n, d, sd, a, sa, b, sb)
		return
	}
	d = d[:n]
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			for i := range d {
				d[i] = a[i] + b[i]
			}
		case opSub:
			for i := range d {
				d[i] = a[i] - b[i]
			}
		case opMul:
			for i := range d {
				d[i] = a[i] * b[i]
			}
		case opDiv:
			for i := range d {
				d[i] = a[i] / b[i]
			}
		}
	case sa == 1 && sb == 0:
		a, y := a[:n], b[0]
		switch op {
		case opAdd:
			for i := range d {
				d[i] = a[i] + y
			}
		case opSub:
			for i := range d {
				d[i] = a[i] - y
			}
		case opMul:
			for i := range d {
				d[i] = a[i] * y
			}
		case opDiv:
			for i := range d {
				d[i] = a[i] / y
			}
		}
	case sa == 0 && sb == 1:
		x, b := a[0], b[:n]
		switch op {
		case opAdd:
			for i := range d {
				d[i] = x + b[i]
			}
		case opSub:
			for i := range d {
				d[i] = x - b[i]
			}
		case opMul:
			for i := range d {
				d[i] = x * b[i]
			}
		case opDiv:
			for i := range d {
				d[i] = x / b[i]
			}
		}
	default:
		binStrided(op, n, d, sd, a, sa, b, sb)
	}
}

func binStrided(op binOp, n int, d []float32, sd int, a []float32, sa int, b []float32, sb int) {
	id, ia, ib := 0, 0, 0
	switch op {
	case opAdd:
		for k := 0; k < n; k++ {
			d[id] = a[ia] + b[ib]
			id, ia, ib = id+sd, ia+sa, ib+sb
		}
	case opSub:
		for k := 0; k < n; k++ {
			d[id] = a[ia] - b[ib]
			id, ia, ib = id+sd, ia+sa, ib+sb
		}
	case opMul:
		for k := 0; k < n; k++ {
			d[id] = a[ia] * b[ib]
			id, ia, ib = id+sd, ia+sa, ib+sb
		}
	case opDiv:
		for k := 0; k < n; k++ {
			d[id] = a[ia] / b[ib]
			id, ia, ib = id+sd, ia+sa, ib+sb
		}
	case opMaximum:
		for k := 0; k < n; k++ {
			d[id] = maxNaN(a[ia], b[ib])
			id, ia, ib = id+sd, ia+sa, ib+sb
		}
	case opMinimum:
		for k := 0; k < n; k++ {
			d[id] = minNaN(a[ia], b[ib])
			id, ia, ib = id+sd, ia+sa, ib+sb
		}
	}
}

// maxNaN is torch.maximum on scalars: NaN in either operand wins.
func maxNaN(x, y float32) float32 {
	if x != x || x > y {
		return x
	}
	return y
}

// minNaN is torch.minimum on scalars: NaN in either operand wins.
func minNaN(x, y float32) float32 {
	if x != x || x < y {
		return x
	}
	return y
}
