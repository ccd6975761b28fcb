package tensor

import (
	"fmt"
	"math"
)

// This file holds reductions over one axis. The source is viewed as
// (outer, n, inner) around the reduced axis; non-contiguous sources are
// copied first. Sums along the last axis accumulate in float64; sums along
// other axes add whole rows in float32, which is faster and, like PyTorch's
// float32 sums, loses precision only for very long axes. A 0-d source
// reduces over axis 0 or -1 as if it had shape (1,), and gives a 0-d result,
// as in PyTorch. Reductions over several axes at once are left to callers
// (reduce one axis at a time, or use SumTo).

// reduceAxis normalises axis for a reduction over t, accepting 0 and -1 for
// a 0-d tensor.
func (t *Tensor) reduceAxis(axis int) int {
	if t.ndim == 0 && (axis == 0 || axis == -1) {
		return 0
	}
	return t.axis(axis)
}

// reduceDims returns outer, n, inner for reducing t over axis.
func (t *Tensor) reduceDims(axis int) (outer, n, inner int) {
	if t.ndim == 0 {
		return 1, 1, 1
	}
	outer, inner = 1, 1
	for i := 0; i < axis; i++ {
		outer *= t.shape[i]
	}
	for i := axis + 1; i < t.ndim; i++ {
		inner *= t.shape[i]
	}
	return outer, t.shape[axis], inner
}

// reducedShape is t's shape with axis removed, or kept as 1.
func (t *Tensor) reducedShape(axis int, keepdim bool) ([MaxDims]int, int) {
	var s [MaxDims]int
	nd := 0
	for i := 0; i < t.ndim; i++ {
		if i == axis {
			if keepdim {
				s[nd] = 1
				nd++
			}
			continue
		}
		s[nd] = t.shape[i]
		nd++
	}
	return s, nd
}

type redOp uint8

const (
	redSum redOp = iota
	redMean
	redMax
	redMin
)

// Sum sets dst to the sum of src over axis (kept as size 1 when keepdim).
func Sum(dst, src *Tensor, axis int, keepdim bool) *Tensor {
	return reduce(redSum, dst, src, axis, keepdim)
}

// Mean sets dst to the mean of src over axis.
func Mean(dst, src *Tensor, axis int, keepdim bool) *Tensor {
	return reduce(redMean, dst, src, axis, keepdim)
}

// Max sets dst to the maximum of src over axis; NaN propagates. Like
// PyTorch, it panics when the axis is empty and the result is not.
func Max(dst, src *Tensor, axis int, keepdim bool) *Tensor {
	return reduce(redMax, dst, src, axis, keepdim)
}

// Min sets dst to the minimum of src over axis; NaN propagates. It panics
// on an empty axis, as Max does.
func Min(dst, src *Tensor, axis int, keepdim bool) *Tensor {
	return reduce(redMin, dst, src, axis, keepdim)
}

func reduce(op redOp, dst, src *Tensor, axis int, keepdim bool) *Tensor {
	axis = src.reduceAxis(axis)
	shape, nd := src.reducedShape(axis, keepdim)
	dst = dest(dst, shape[:nd], "reduction")
	if !dst.IsContiguous() {
		panic("tensor: reduction into a non-contiguous destination")
	}
	if overlaps(dst, src) {
		panic("tensor: reduction into a destination that overlaps its source")
	}
	src = Contiguous(nil, src)
	outer, n, inner := src.reduceDims(axis)
	s := src.Data()
	d := dst.Data()
	if n == 0 {
		// Empty sums are 0 and empty means NaN (0/0), as in PyTorch; an
		// empty max or min has no value.
		switch {
		case len(d) == 0:
		case op == redSum:
			clear(d)
		case op == redMean:
			for i := range d {
				d[i] = float32(math.NaN())
			}
		default:
			panic(fmt.Sprintf("tensor: max/min over empty axis %d of shape %v", axis, src.Shape()))
		}
		return dst
	}
	for o := 0; o < outer; o++ {
		base := s[o*n*inner : (o+1)*n*inner]
		row := d[o*inner : (o+1)*inner]
		if inner == 1 {
			row[0] = reduceRow(op, base)
			continue
		}
		copy(row, base[:inner])
		for k := 1; k < n; k++ {
			r := base[k*inner : (k+1)*inner]
			switch op {
			case redSum, redMean:
				for j, v := range r {
					row[j] += v
				}
			case redMax:
				for j, v := range r {
					if v > row[j] || v != v {
						row[j] = v
					}
				}
			case redMin:
				for j, v := range r {
					if v < row[j] || v != v {
						row[j] = v
					}
				}
			}
		}
		if op == redMean {
			fn := float32(n)
			for j := range row {
				row[j] /= fn
			}
		}
	}
	return dst
}

// reduceRow reduces a contiguous row; sums accumulate in float64.
func reduceRow(op redOp, r []float32) float32 {
	switch op {
	case redSum, redMean:
		acc := sum64(r)
		if op == redMean {
			acc /= float64(len(r))
		}
		return float32(acc)
	case redMax:
		m := float32(math.Inf(-1))
		for _, v := range r {
			if v > m || v != v {
				m = v
			}
		}
		return m
	default:
		m := float32(math.Inf(1))
		for _, v := range r {
			if v < m || v != v {
				m = v
			}
		}
		return m
	}
}

// sum64 returns the sum of r accumulated in float64. Four partial sums keep
// the adds from waiting on each other.
func sum64(r []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(r); i += 4 {
		q := r[i : i+4 : i+4]
		s0 += float64(q[0])
		s1 += float64(q[1])
		s2 += float64(q[2])
		s3 += float64(q[3])
	}
	for ; i < len(r); i++ {
		s0 += float64(r[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// SumAll returns the sum of every element, accumulated in float64.
func SumAll(t *Tensor) float32 {
	return reduceRow(redSum, Contiguous(nil, t).Data())
}

// ArgMax returns, for every position of src with axis removed (row-major),
// the index along axis of the largest value; the first wins ties and, as in
// PyTorch, the first NaN beats every number.
func ArgMax(src *Tensor, axis int) []int {
	axis = src.reduceAxis(axis)
	outer, _, inner := src.reduceDims(axis)
	out := make([]int, outer*inner)
	ArgMaxInto(out, src, axis)
	return out
}

// ArgMaxInto is ArgMax writing into out, which must have the right length.
func ArgMaxInto(out []int, src *Tensor, axis int) {
	axis = src.reduceAxis(axis)
	outer, n, inner := src.reduceDims(axis)
	if len(out) != outer*inner {
		panic(fmt.Sprintf("tensor: ArgMaxInto: %d outputs, want %d", len(out), outer*inner))
	}
	if n == 0 && len(out) > 0 {
		panic(fmt.Sprintf("tensor: argmax over empty axis %d of shape %v", axis, src.Shape()))
	}
	src = Contiguous(nil, src)
	s := src.Data()
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			best, bi := float32(math.Inf(-1)), 0
			for k := 0; k < n; k++ {
				v := s[(o*n+k)*inner+j]
				if v > best || (v != v && best == best) {
					best, bi = v, k
				}
			}
			out[o*inner+j] = bi
		}
	}
}

// SumTo sets dst to src summed over the axes that broadcasting expanded, so
// that dst's shape broadcasts to src's. It is the adjoint of broadcasting.
// dst is overwritten, not accumulated into.
func SumTo(dst, src *Tensor) *Tensor {
	if !broadcastsTo(dst, src) {
		panic(fmt.Sprintf("tensor: SumTo %v from %v", dst.Shape(), src.Shape()))
	}
	if SameShape(dst, src) {
		return Copy(dst, src)
	}
	dest(dst, dst.Shape(), "SumTo")
	if overlaps(dst, src) {
		panic("tensor: SumTo into a destination that overlaps its source")
	}
	dst.Zero()
	sd := dst.stridesFor(src.shape, src.ndim)
	st := [3][MaxDims]int{sd, src.strides, src.strides}
	w := newWalker(src.shape, src.ndim, st, [3]int{dst.off, src.off, src.off})
	for r := 0; r < w.rows; r++ {
		d, s := dst.data[w.off[0]:], src.data[w.off[1]:]
		id, is := w.inc[0], w.inc[1]
		if id == 0 {
			// A whole row folds into one element; accumulate in float64.
			var acc float64
			if is == 1 {
				acc = sum64(s[:w.n])
			} else {
				for k := 0; k < w.n; k++ {
					acc += float64(s[k*is])
				}
			}
			d[0] += float32(acc)
		} else {
			for k := 0; k < w.n; k++ {
				d[k*id] += s[k*is]
			}
		}
		w.next()
	}
	return dst
}

// broadcastsTo reports whether t's shape broadcasts to exactly target's.
func broadcastsTo(t, target *Tensor) bool {
	if t.ndim > target.ndim {
		return false
	}
	lead := target.ndim - t.ndim
	for i := 0; i < t.ndim; i++ {
		if d := t.shape[i]; d != 1 && d != target.shape[i+lead] {
			return false
		}
	}
	return true
}
