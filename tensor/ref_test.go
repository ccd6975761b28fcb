package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// This file holds the independent float64 reference the tests compare
// against: row-major arrays addressed by plain index arithmetic, and helpers
// that lay the same values out in the strided forms the ops must accept.

// ref is a row-major float64 array.
type ref struct {
	shape []int
	v     []float64
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func newRef(shape ...int) ref {
	return ref{shape: slices.Clone(shape), v: make([]float64, numel(shape))}
}

// unravel returns the multi-index of flat position k in shape.
func unravel(k int, shape []int) []int {
	idx := make([]int, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		idx[i] = k % shape[i]
		k /= shape[i]
	}
	return idx
}

// ravel is the inverse of unravel.
func ravel(idx, shape []int) int {
	k := 0
	for i := range shape {
		k = k*shape[i] + idx[i]
	}
	return k
}

// randRef returns values from N(0,1), rounded to float32.
func randRef(r *rand.Rand, shape ...int) ref {
	x := newRef(shape...)
	for i := range x.v {
		x.v[i] = float64(float32(r.NormFloat64()))
	}
	return x
}

// toRef reads t through its raw header, not through the package's walkers.
func toRef(t *Tensor) ref {
	shape := slices.Clone(t.shape[:t.ndim])
	x := newRef(shape...)
	for k := range x.v {
		idx := unravel(k, shape)
		o := t.off
		for i, v := range idx {
			o += v * t.strides[i]
		}
		x.v[k] = float64(t.data[o])
	}
	return x
}

// layout builds a tensor holding x's values in a given storage pattern.
type layout struct {
	name string
	make func(x ref) *Tensor
}

// layouts are the storage patterns every op must treat alike. Storage that
// no element owns holds NaN, which shows up in any result that read it.
var layouts = []layout{
	{"contiguous", func(x ref) *Tensor {
		return FromSlice(f32(x.v), x.shape...)
	}},
	{"gapped", func(x ref) *Tensor {
		// Every stride padded and a non-zero offset, built by hand.
		t := &Tensor{ndim: len(x.shape), off: 3}
		s := 2
		for i := len(x.shape) - 1; i >= 0; i-- {
			t.shape[i], t.strides[i] = x.shape[i], s
			s = s*x.shape[i] + 1
		}
		t.data = make([]float32, t.off+s+4)
		for i := range t.data {
			t.data[i] = float32(math.NaN())
		}
		for k, v := range x.v {
			o := t.off
			for i, j := range unravel(k, x.shape) {
				o += j * t.strides[i]
			}
			t.data[o] = float32(v)
		}
		return t
	}},
	{"permuted", func(x ref) *Tensor {
		// Stored with the axes reversed, viewed back through Permute.
		nd := len(x.shape)
		rs := slices.Clone(x.shape)
		slices.Reverse(rs)
		st := New(rs...)
		for k, v := range x.v {
			idx := unravel(k, x.shape)
			slices.Reverse(idx)
			st.data[ravel(idx, rs)] = float32(v)
		}
		axes := make([]int, nd)
		for i := range axes {
			axes[i] = nd - 1 - i
		}
		return st.Permute(axes...)
	}},
	{"sliced", func(x ref) *Tensor {
		// The middle of a larger tensor along axis 0, poisoned around it.
		if len(x.shape) == 0 {
			return FromSlice(f32(x.v))
		}
		big := slices.Clone(x.shape)
		big[0] += 3
		t := Full(float32(math.NaN()), big...)
		v := t.Slice(1, 1+x.shape[0])
		for k, val := range x.v {
			v.Set(float32(val), unravel(k, x.shape)...)
		}
		return v
	}},
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// at returns x at a multi-index.
func (x ref) at(idx []int) float64 { return x.v[ravel(idx, x.shape)] }

// refBroadcastShape is broadcasting written out from the NumPy rules.
func refBroadcastShape(a, b []int) ([]int, bool) {
	nd := max(len(a), len(b))
	out := make([]int, nd)
	for i := 1; i <= nd; i++ {
		da, db := 1, 1
		if i <= len(a) {
			da = a[len(a)-i]
		}
		if i <= len(b) {
			db = b[len(b)-i]
		}
		switch {
		case da == db:
			out[nd-i] = da
		case da == 1:
			out[nd-i] = db
		case db == 1:
			out[nd-i] = da
		default:
			return nil, false
		}
	}
	return out, true
}

// bcastAt reads x at an index of a larger broadcast shape.
func (x ref) bcastAt(idx []int) float64 {
	lead := len(idx) - len(x.shape)
	j := make([]int, len(x.shape))
	for i := range j {
		if x.shape[i] != 1 {
			j[i] = idx[lead+i]
		}
	}
	return x.at(j)
}

func refBinary(a, b ref, f func(x, y float64) float64) ref {
	shape, ok := refBroadcastShape(a.shape, b.shape)
	if !ok {
		panic("refBinary: shapes do not broadcast")
	}
	out := newRef(shape...)
	for k := range out.v {
		idx := unravel(k, shape)
		out.v[k] = f(a.bcastAt(idx), b.bcastAt(idx))
	}
	return out
}

func refUnary(a ref, f func(float64) float64) ref {
	out := newRef(a.shape...)
	for i, v := range a.v {
		out.v[i] = f(v)
	}
	return out
}

// near reports whether got is within tol of want, relative for large values;
// NaNs match NaNs and infinities match exactly.
func near(got, want, tol float64) bool {
	switch {
	case math.IsNaN(want) || math.IsNaN(got):
		return math.IsNaN(want) && math.IsNaN(got)
	case math.IsInf(want, 0) || math.IsInf(got, 0):
		return got == want
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// checkRef fails t unless got has want's shape and values.
func checkRef(t *testing.T, what string, got *Tensor, want ref, tol float64) {
	t.Helper()
	if !slices.Equal(got.Shape(), want.shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.shape)
	}
	g := toRef(got)
	bad := 0
	for k := range want.v {
		// The op rounds to float32, overflowing to Inf where float64 does not.
		if !near(g.v[k], float64(float32(want.v[k])), tol) {
			if bad < 5 {
				t.Errorf("%s: at %v got %v, want %v", what, unravel(k, want.shape), g.v[k], want.v[k])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d values wrong", what, bad, len(want.v))
	}
}

// mustPanic fails t unless f panics.
func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: did not panic", what)
		}
	}()
	f()
}

func shapeName(s []int) string { return fmt.Sprint(s) }
