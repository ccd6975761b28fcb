package tensor

import (
	"fmt"
	"slices"
	"unsafe"
)

// This file holds the machinery shared by the strided ops: broadcasting,
// destination checks, the overlap checks that keep in-place ops well defined,
// and the row walker. It leaves out the ops themselves.

// BroadcastShape returns the shape that a and b broadcast to, and false when
// they are incompatible.
func BroadcastShape(a, b []int) ([]int, bool) {
	s, nd, ok := broadcastShape(a, b)
	return s[:nd], ok
}

func broadcastShape(a, b []int) ([MaxDims]int, int, bool) {
	var out [MaxDims]int
	nd := max(len(a), len(b))
	if nd > MaxDims {
		return out, 0, false
	}
	for i := 0; i < nd; i++ {
		da, db := 1, 1
		if j := len(a) - nd + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - nd + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return out, nd, false
		}
	}
	return out, nd, true
}

// stridesFor returns t's strides aligned to an nd-dimensional broadcast shape,
// with 0 for broadcast axes.
func (t *Tensor) stridesFor(shape [MaxDims]int, nd int) [MaxDims]int {
	var s [MaxDims]int
	lead := nd - t.ndim
	for i := lead; i < nd; i++ {
		if t.shape[i-lead] != 1 || shape[i] == 1 {
			s[i] = t.strides[i-lead]
		}
	}
	return s
}

// dest returns dst, allocating it when nil, after checking its shape and that
// no two of its elements share storage (an expanded view), since writing such
// a destination would keep an arbitrary one of the values.
func dest(dst *Tensor, shape []int, what string) *Tensor {
	if dst == nil {
		return New(shape...)
	}
	if !dst.ShapeIs(shape...) {
		// Clone so that shape, often a caller's stack array, does not escape.
		panic(fmt.Sprintf("tensor: %s: destination shape %v, want %v", what, dst.Shape(), slices.Clone(shape)))
	}
	for i := 0; i < dst.ndim && dst.Len() > 0; i++ {
		if dst.strides[i] == 0 && dst.shape[i] > 1 {
			panic(fmt.Sprintf("tensor: %s: destination %v has a broadcast (stride 0) axis", what, dst.Shape()))
		}
	}
	return dst
}

// span returns the byte addresses [lo, hi) that t's elements can touch; an
// empty tensor touches nothing.
func (t *Tensor) span() (lo, hi uintptr) {
	if t.Len() == 0 || len(t.data) == 0 {
		return 0, 0
	}
	last := t.off
	for i := 0; i < t.ndim; i++ {
		last += (t.shape[i] - 1) * t.strides[i]
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(t.data)))
	const size = unsafe.Sizeof(float32(0))
	return base + uintptr(t.off)*size, base + uintptr(last+1)*size
}

// overlaps reports whether a and b may share storage.
func overlaps(a, b *Tensor) bool {
	alo, ahi := a.span()
	blo, bhi := b.span()
	return alo < bhi && blo < ahi
}

// checkAlias panics when src shares storage with dst other than element for
// element: an op that reads src while writing dst would then read values it
// has already overwritten. src is aligned to dst's shape by broadcasting, so
// the in-place forms Add(x, x, y) and Exp(x, x) are allowed.
func checkAlias(what string, dst, src *Tensor) {
	if dst == src || !overlaps(dst, src) {
		return
	}
	if dst.off == src.off && src.ndim <= dst.ndim {
		s := src.stridesFor(dst.shape, dst.ndim)
		same := true
		for i := 0; i < dst.ndim; i++ {
			if dst.shape[i] > 1 && s[i] != dst.strides[i] {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	panic(fmt.Sprintf("tensor: %s: destination %v partially overlaps an operand %v", what, dst.Shape(), src.Shape()))
}

// walker visits the rows of an iteration space shared by up to three strided
// operands: off holds the storage offsets of the current row, inc the strides
// along it and n its length. Size-1 axes are dropped and axes that every
// operand walks as one are merged first, so a contiguous or bias-broadcast
// operation runs as few long rows. It is a value type so that the hot ops
// allocate nothing.
type walker struct {
	shape [MaxDims]int
	st    [3][MaxDims]int
	idx   [MaxDims]int
	outer int // axes before the row axis
	rows  int // number of rows in total
	n     int
	inc   [3]int
	off   [3]int
}

// newWalker prepares a walk over shape[:nd] with per-operand strides st and
// start offsets off. Unused operands may repeat another's strides.
func newWalker(shape [MaxDims]int, nd int, st [3][MaxDims]int, off [3]int) walker {
	w := walker{off: off}
	k := 0
	for i := 0; i < nd; i++ {
		d := shape[i]
		if d == 0 {
			return w // rows == 0
		}
		if d == 1 {
			continue
		}
		if k > 0 && w.mergeable(k-1, d, st, i) {
			w.shape[k-1] *= d
			for o := range st {
				w.st[o][k-1] = st[o][i]
			}
			continue
		}
		w.shape[k] = d
		for o := range st {
			w.st[o][k] = st[o][i]
		}
		k++
	}
	w.rows = 1
	if k == 0 {
		w.n = 1
		return w
	}
	w.outer = k - 1
	w.n = w.shape[k-1]
	for o := range st {
		w.inc[o] = w.st[o][k-1]
	}
	for i := 0; i < w.outer; i++ {
		w.rows *= w.shape[i]
	}
	return w
}

// mergeable reports whether kept axis j can absorb source axis i of size d:
// true when every operand steps over j exactly as over d elements of i.
func (w *walker) mergeable(j, d int, st [3][MaxDims]int, i int) bool {
	for o := range st {
		if w.st[o][j] != st[o][i]*d {
			return false
		}
	}
	return true
}

// next advances off to the following row.
func (w *walker) next() {
	for d := w.outer - 1; d >= 0; d-- {
		w.idx[d]++
		for o := range w.off {
			w.off[o] += w.st[o][d]
		}
		if w.idx[d] < w.shape[d] {
			return
		}
		for o := range w.off {
			w.off[o] -= w.idx[d] * w.st[o][d]
		}
		w.idx[d] = 0
	}
}
