package tensor

import (
	"fmt"
	"slices"
)

// This file holds the views: results share storage with their source.
// Copy and Contiguous are here too, since they turn views back into storage.
// It leaves out negative steps and slicing of inner axes, which callers get
// by permuting the axis to the front, slicing, and permuting back.

// view returns a copy of the header of t, sharing its storage.
func (t *Tensor) view() *Tensor {
	v := *t
	return &v
}

// resolveShape fills in one -1 dimension from n elements.
func resolveShape(shape []int, n int) [MaxDims]int {
	var out [MaxDims]int
	if len(shape) > MaxDims {
		panic(fmt.Sprintf("tensor: rank %d exceeds MaxDims", len(shape)))
	}
	known, infer := 1, -1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("tensor: bad shape %v", slices.Clone(shape)))
		default:
			known *= d
		}
		out[i] = d
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			panic(fmt.Sprintf("tensor: cannot infer -1 in %v for %d elements", slices.Clone(shape), n))
		}
		out[infer] = n / known
	} else if known != n {
		panic(fmt.Sprintf("tensor: cannot view %d elements as %v", n, slices.Clone(shape)))
	}
	return out
}

// View returns a contiguous view of t with a new shape; one dimension may be
// -1. t must be contiguous.
func (t *Tensor) View(shape ...int) *Tensor {
	v := &Tensor{}
	t.ViewInto(v, shape...)
	return v
}

// ViewInto is View writing the header into dst, for callers that pool headers.
func (t *Tensor) ViewInto(dst *Tensor, shape ...int) {
	if !t.IsContiguous() {
		panic("tensor: View of a non-contiguous tensor; use Reshape")
	}
	s := resolveShape(shape, t.Len())
	data, off := t.data, t.off
	dst.setShape(s[:len(shape)])
	dst.data, dst.off = data, off
}

// Reshape returns a view when t is contiguous and a contiguous copy otherwise,
// like torch.reshape.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	if t.IsContiguous() {
		return t.View(shape...)
	}
	return Contiguous(nil, t).View(shape...)
}

// Permute returns a view with the axes reordered: result axis i is t's axis
// axes[i].
func (t *Tensor) Permute(axes ...int) *Tensor {
	if len(axes) != t.ndim {
		panic(fmt.Sprintf("tensor: permute %v of rank %d", axes, t.ndim))
	}
	v := t.view()
	var seen [MaxDims]bool
	for i, a := range axes {
		a = t.axis(a)
		if seen[a] {
			panic(fmt.Sprintf("tensor: repeated axis in permute %v", axes))
		}
		seen[a] = true
		v.shape[i], v.strides[i] = t.shape[a], t.strides[a]
	}
	return v
}

// Transpose returns a view with axes a and b swapped.
func (t *Tensor) Transpose(a, b int) *Tensor {
	a, b = t.axis(a), t.axis(b)
	v := t.view()
	v.shape[a], v.shape[b] = v.shape[b], v.shape[a]
	v.strides[a], v.strides[b] = v.strides[b], v.strides[a]
	return v
}

// T returns the transpose of the last two axes.
func (t *Tensor) T() *Tensor { return t.Transpose(-2, -1) }

// Slice returns the view t[start:end] along the first axis, without copying.
func (t *Tensor) Slice(start, end int) *Tensor {
	if t.ndim == 0 || start < 0 || end < start || end > t.shape[0] {
		panic(fmt.Sprintf("tensor: slice [%d:%d] of shape %v", start, end, t.Shape()))
	}
	v := t.view()
	v.off += start * t.strides[0]
	v.shape[0] = end - start
	return v
}

// Index returns the view t[i], dropping the first axis.
func (t *Tensor) Index(i int) *Tensor {
	if t.ndim == 0 || i < 0 || i >= t.shape[0] {
		panic(fmt.Sprintf("tensor: index %d of shape %v", i, t.Shape()))
	}
	v := t.view()
	v.off += i * t.strides[0]
	copy(v.shape[:], t.shape[1:t.ndim])
	copy(v.strides[:], t.strides[1:t.ndim])
	v.ndim--
	v.shape[v.ndim], v.strides[v.ndim] = 0, 0
	return v
}

// Unsqueeze returns a view with a new axis of size 1 at position axis.
func (t *Tensor) Unsqueeze(axis int) *Tensor {
	if axis < 0 {
		axis += t.ndim + 1
	}
	if axis < 0 || axis > t.ndim || t.ndim == MaxDims {
		panic(fmt.Sprintf("tensor: unsqueeze %d of shape %v", axis, t.Shape()))
	}
	v := t.view()
	copy(v.shape[axis+1:], t.shape[axis:t.ndim])
	copy(v.strides[axis+1:], t.strides[axis:t.ndim])
	v.shape[axis] = 1
	v.strides[axis] = 1
	if axis < t.ndim {
		v.strides[axis] = t.strides[axis] * t.shape[axis]
	}
	v.ndim++
	return v
}

// Expand returns a broadcast view of t with the given shape: size-1 axes are
// repeated with stride 0 and new leading axes are added, like torch.expand.
// As there, -1 keeps the size of an existing axis. The result is read-only
// in effect: ops panic when given it as a destination.
func (t *Tensor) Expand(shape ...int) *Tensor {
	if len(shape) < t.ndim || len(shape) > MaxDims {
		panic(fmt.Sprintf("tensor: expand %v to %v", t.Shape(), slices.Clone(shape)))
	}
	v := &Tensor{data: t.data, off: t.off, ndim: len(shape)}
	lead := len(shape) - t.ndim
	for i, d := range shape {
		if i < lead {
			if d < 0 {
				panic(fmt.Sprintf("tensor: expand %v to %v", t.Shape(), slices.Clone(shape)))
			}
			v.shape[i] = d
			continue
		}
		j := i - lead
		switch {
		case d == -1 || t.shape[j] == d:
			v.shape[i], v.strides[i] = t.shape[j], t.strides[j]
		case t.shape[j] == 1 && d >= 0:
			v.shape[i], v.strides[i] = d, 0
		default:
			panic(fmt.Sprintf("tensor: expand %v to %v", t.Shape(), slices.Clone(shape)))
		}
	}
	return v
}

// Copy copies src into dst element by element; shapes must match. It returns dst.
func Copy(dst, src *Tensor) *Tensor {
	if !SameShape(dst, src) {
		panic(fmt.Sprintf("tensor: copy %v into %v", src.Shape(), dst.Shape()))
	}
	return unary(opIdentity, 0, 0, dst, src)
}

// Contiguous returns src itself when it is contiguous and dst is nil;
// otherwise it copies src into dst (allocated when nil) and returns dst.
func Contiguous(dst, src *Tensor) *Tensor {
	if dst == nil {
		if src.IsContiguous() {
			return src
		}
		dst = New(src.Shape()...)
	}
	return Copy(dst, src)
}

// Clone returns a contiguous copy of t with its own storage.
func (t *Tensor) Clone() *Tensor { return Copy(New(t.Shape()...), t) }
