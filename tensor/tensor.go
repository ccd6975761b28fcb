// Package tensor provides kiln's float32 N-d arrays: a shape, strides and an
// offset viewing a shared backing slice. Views (reshape, permute, slicing
// along the first axis) share memory; everything else writes into a
// destination tensor, so that hot loops can reuse buffers.
//
// The package knows nothing about autograd or layers. Shape mismatches are
// programmer errors and panic with a "tensor: " message.
//
// Functions that produce a tensor take the destination first: passing nil
// allocates a new contiguous result, passing a tensor of the right shape
// writes into it and allocates nothing. A destination may be one of the
// inputs (Add(x, x, y) works in place), but it may not partly overlap one
// (a shifted or transposed view of the same storage) nor be an expanded
// view whose elements share storage: the result would depend on the order
// of the writes, so such calls panic, as PyTorch refuses them.
package tensor

import (
	"fmt"
	"slices"
	"strings"
)

// MaxDims is the largest rank a Tensor can have. Shapes live in fixed arrays
// so that views and op results never allocate for their metadata.
const MaxDims = 6

// Tensor is a strided view of float32 values.
type Tensor struct {
	data    []float32
	shape   [MaxDims]int
	strides [MaxDims]int
	ndim    int
	off     int
}

// New returns a zero-filled contiguous tensor of the given shape.
func New(shape ...int) *Tensor {
	t := &Tensor{}
	t.setShape(shape)
	t.data = make([]float32, t.Len())
	return t
}

// FromSlice returns a contiguous tensor viewing data (not a copy). len(data)
// must equal the product of shape.
func FromSlice(data []float32, shape ...int) *Tensor {
	t := &Tensor{}
	t.Init(data, shape...)
	return t
}

// Init makes t a contiguous view of data with the given shape. It lets
// callers that own Tensor values (for example in a pool) set them up without
// allocating.
func (t *Tensor) Init(data []float32, shape ...int) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(data) != n {
		panic(fmt.Sprintf("tensor: %d values for shape %v (want %d)", len(data), slices.Clone(shape), n))
	}
	t.setShape(shape)
	t.data = data
	t.off = 0
}

// Scalar returns a 0-d tensor holding v.
func Scalar(v float32) *Tensor { return FromSlice([]float32{v}) }

// Full returns a contiguous tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	t.Fill(v)
	return t
}

func (t *Tensor) setShape(shape []int) {
	if len(shape) > MaxDims {
		panic(fmt.Sprintf("tensor: rank %d exceeds MaxDims %d", len(shape), MaxDims))
	}
	for _, d := range shape {
		if d < 0 {
			// Clone so that callers' variadic shapes do not escape.
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", slices.Clone(shape)))
		}
	}
	t.ndim = len(shape)
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		t.shape[i] = shape[i]
		t.strides[i] = s
		s *= shape[i]
	}
	for i := len(shape); i < MaxDims; i++ {
		t.shape[i], t.strides[i] = 0, 0
	}
}

// Shape returns the dimensions. The slice aliases t; do not modify it.
func (t *Tensor) Shape() []int { return t.shape[:t.ndim] }

// Strides returns the element strides. The slice aliases t.
func (t *Tensor) Strides() []int { return t.strides[:t.ndim] }

// NDim returns the rank.
func (t *Tensor) NDim() int { return t.ndim }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int { return t.shape[t.axis(i)] }

// Len returns the number of elements.
func (t *Tensor) Len() int {
	n := 1
	for i := 0; i < t.ndim; i++ {
		n *= t.shape[i]
	}
	return n
}

// axis normalises a possibly negative axis and panics when out of range.
func (t *Tensor) axis(i int) int {
	if i < 0 {
		i += t.ndim
	}
	if i < 0 || i >= t.ndim {
		panic(fmt.Sprintf("tensor: axis out of range for shape %v", t.Shape()))
	}
	return i
}

// IsContiguous reports whether the elements are laid out row-major without
// gaps. Strides of size-1 axes do not matter, and an empty tensor is
// contiguous whatever its strides.
func (t *Tensor) IsContiguous() bool {
	if t.Len() == 0 {
		return true
	}
	s := 1
	for i := t.ndim - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != s {
			return false
		}
		s *= t.shape[i]
	}
	return true
}

// Data returns the elements of a contiguous tensor as a slice aliasing its
// storage. It panics for non-contiguous views; call Contiguous first.
func (t *Tensor) Data() []float32 {
	if !t.IsContiguous() {
		panic("tensor: Data of a non-contiguous view")
	}
	n := t.Len()
	if n == 0 {
		return t.data[:0]
	}
	return t.data[t.off : t.off+n]
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b *Tensor) bool {
	if a.ndim != b.ndim {
		return false
	}
	for i := 0; i < a.ndim; i++ {
		if a.shape[i] != b.shape[i] {
			return false
		}
	}
	return true
}

// ShapeIs reports whether t has exactly the given shape.
func (t *Tensor) ShapeIs(shape ...int) bool {
	if t.ndim != len(shape) {
		return false
	}
	for i, d := range shape {
		if t.shape[i] != d {
			return false
		}
	}
	return true
}

func (t *Tensor) index(idx []int) int {
	if len(idx) != t.ndim {
		panic(fmt.Sprintf("tensor: %d indices for shape %v", len(idx), slices.Clone(t.Shape())))
	}
	o := t.off
	for i, v := range idx {
		if v < 0 || v >= t.shape[i] {
			// Clone so that At's variadic index does not escape.
			panic(fmt.Sprintf("tensor: index %v out of range for shape %v", slices.Clone(idx), slices.Clone(t.Shape())))
		}
		o += v * t.strides[i]
	}
	return o
}

// At returns the element at idx.
func (t *Tensor) At(idx ...int) float32 { return t.data[t.index(idx)] }

// Set stores v at idx.
func (t *Tensor) Set(v float32, idx ...int) { t.data[t.index(idx)] = v }

// Item returns the only element of a one-element tensor.
func (t *Tensor) Item() float32 {
	if t.Len() != 1 {
		panic(fmt.Sprintf("tensor: Item of shape %v", t.Shape()))
	}
	return t.data[t.off]
}

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	if t.IsContiguous() {
		d := t.Data()
		for i := range d {
			d[i] = v
		}
		return
	}
	t.each(func(o int) { t.data[o] = v })
}

// Zero sets every element to 0.
func (t *Tensor) Zero() {
	if t.IsContiguous() {
		clear(t.Data())
		return
	}
	t.Fill(0)
}

// each calls fn with the storage offset of every element in row-major order.
// It is for cold paths (printing, filling views); hot paths use kernels.
func (t *Tensor) each(fn func(off int)) {
	n := t.Len()
	if n == 0 {
		return
	}
	var idx [MaxDims]int
	o := t.off
	for k := 0; k < n; k++ {
		fn(o)
		for d := t.ndim - 1; d >= 0; d-- {
			idx[d]++
			o += t.strides[d]
			if idx[d] < t.shape[d] {
				break
			}
			o -= idx[d] * t.strides[d]
			idx[d] = 0
		}
	}
}

// Values returns a fresh row-major copy of the elements.
func (t *Tensor) Values() []float32 {
	out := make([]float32, 0, t.Len())
	t.each(func(o int) { out = append(out, t.data[o]) })
	return out
}

// String formats small tensors in full and large ones by shape.
func (t *Tensor) String() string {
	if t.Len() > 64 {
		return fmt.Sprintf("Tensor%v", t.Shape())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v%v", t.Shape(), t.Values())
	return b.String()
}
