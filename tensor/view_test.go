package tensor

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func seq(shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.data {
		t.data[i] = float32(i)
	}
	return t
}

func TestViewSharesAndInfers(t *testing.T) {
	x := seq(2, 3, 4)
	tests := []struct {
		in, want []int
	}{
		{[]int{24}, []int{24}},
		{[]int{-1}, []int{24}},
		{[]int{4, -1}, []int{4, 6}},
		{[]int{2, -1, 3}, []int{2, 4, 3}},
		{[]int{1, 24, 1}, []int{1, 24, 1}},
	}
	for _, tc := range tests {
		v := x.View(tc.in...)
		if !slices.Equal(v.Shape(), tc.want) {
			t.Errorf("View(%v) shape %v, want %v", tc.in, v.Shape(), tc.want)
		}
		if !slices.Equal(v.Values(), x.Values()) {
			t.Errorf("View(%v) changed the order", tc.in)
		}
	}
	v := x.View(6, 4)
	v.Set(-1, 5, 3)
	if x.At(1, 2, 3) != -1 {
		t.Errorf("View does not share memory")
	}
	// A view of a slice keeps the slice's offset.
	s := x.Slice(1, 2).View(-1)
	if s.At(0) != 12 {
		t.Errorf("View of a slice starts at %v, want 12", s.At(0))
	}
	if sc := Scalar(5).View(1, 1); !sc.ShapeIs(1, 1) || sc.Item() != 5 {
		t.Errorf("View of a scalar = %v", sc)
	}
	if e := New(0, 3).View(3, 0, 5); e.Len() != 0 {
		t.Errorf("View of empty = %v", e.Shape())
	}
}

func TestViewPanics(t *testing.T) {
	x := seq(2, 3, 4)
	mustPanic(t, "non-contiguous", func() { x.T().View(24) })
	mustPanic(t, "wrong count", func() { x.View(5, 5) })
	mustPanic(t, "two -1", func() { x.View(-1, -1) })
	mustPanic(t, "-2", func() { x.View(-2, -12) })
	mustPanic(t, "-1 not dividing", func() { x.View(5, -1) })
	mustPanic(t, "-1 with a zero", func() { New(0, 4).View(0, -1) })
	mustPanic(t, "rank 7", func() { x.View(1, 1, 1, 1, 1, 1, 24) })
}

func TestViewIntoAllocatesNothing(t *testing.T) {
	x := seq(2, 3, 4)
	var v Tensor
	n := testing.AllocsPerRun(100, func() { x.ViewInto(&v, 4, -1) })
	if n != 0 {
		t.Errorf("ViewInto allocates %v times", n)
	}
	if !v.ShapeIs(4, 6) || v.At(3, 5) != 23 {
		t.Errorf("ViewInto = %v", &v)
	}
	x.ViewInto(x, 24) // in place
	if !x.ShapeIs(24) || x.At(23) != 23 {
		t.Errorf("ViewInto itself = %v", x)
	}
}

func TestReshape(t *testing.T) {
	x := seq(2, 3)
	v := x.Reshape(3, 2)
	v.Set(-1, 0, 0)
	if x.At(0, 0) != -1 {
		t.Errorf("Reshape of contiguous copied")
	}
	tr := x.T()
	c := tr.Reshape(6)
	if want := []float32{-1, 3, 1, 4, 2, 5}; !slices.Equal(c.Values(), want) {
		t.Errorf("Reshape of transpose = %v, want %v", c.Values(), want)
	}
	c.Set(100, 1)
	if x.At(1, 0) == 100 {
		t.Errorf("Reshape of non-contiguous shares memory")
	}
}

// refPermute is the reference transpose: out[idx] = x[idx permuted back].
func refPermute(x ref, axes []int) ref {
	shape := make([]int, len(axes))
	for i, a := range axes {
		shape[i] = x.shape[a]
	}
	out := newRef(shape...)
	src := make([]int, len(axes))
	for k := range out.v {
		idx := unravel(k, shape)
		for i, a := range axes {
			src[a] = idx[i]
		}
		out.v[k] = x.at(src)
	}
	return out
}

func TestPermuteTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 0))
	x := randRef(r, 2, 3, 4, 5)
	tests := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}, {2, 0, 3, 1}}
	for _, l := range layouts {
		for _, axes := range tests {
			checkRef(t, l.name+" Permute"+shapeName(axes), l.make(x).Permute(axes...), refPermute(x, axes), 0)
		}
		neg := l.make(x).Permute(-1, 0, -2, 1)
		checkRef(t, l.name+" Permute negative", neg, refPermute(x, []int{3, 0, 2, 1}), 0)
		checkRef(t, l.name+" Transpose(1,3)", l.make(x).Transpose(1, -1), refPermute(x, []int{0, 3, 2, 1}), 0)
		checkRef(t, l.name+" T", l.make(x).T(), refPermute(x, []int{0, 1, 3, 2}), 0)
	}
	y := seq(2, 3)
	y.T().Set(-5, 2, 1)
	if y.At(1, 2) != -5 {
		t.Errorf("T does not share memory")
	}
	mustPanic(t, "repeated axis", func() { seq(2, 3).Permute(0, 0) })
	mustPanic(t, "wrong count", func() { seq(2, 3).Permute(0) })
	mustPanic(t, "out of range", func() { seq(2, 3).Permute(0, 2) })
	mustPanic(t, "T of 1-d", func() { seq(3).T() })
}

func TestSliceIndexShareMemory(t *testing.T) {
	x := seq(4, 3)
	s := x.Slice(1, 3)
	if !s.ShapeIs(2, 3) || s.At(0, 0) != 3 || s.At(1, 2) != 8 {
		t.Fatalf("Slice(1,3) = %v", s)
	}
	s.Set(-1, 1, 1)
	if x.At(2, 1) != -1 {
		t.Errorf("Slice write not visible in source")
	}
	x.Set(-2, 1, 0)
	if s.At(0, 0) != -2 {
		t.Errorf("source write not visible in Slice")
	}
	row := x.Index(3)
	if !row.ShapeIs(3) || row.At(2) != 11 {
		t.Fatalf("Index(3) = %v", row)
	}
	row.Fill(7)
	if x.At(3, 0) != 7 || x.At(3, 2) != 7 || x.At(2, 2) == 7 {
		t.Errorf("Index write not confined to the row: %v", x.Values())
	}
	if e := x.Slice(4, 4); e.Len() != 0 || !e.ShapeIs(0, 3) {
		t.Errorf("empty Slice = %v", e.Shape())
	}
	sc := x.Index(0).Index(1)
	if sc.NDim() != 0 || sc.Item() != 1 {
		t.Errorf("Index to 0-d = %v", sc)
	}
	// Index of a transposed view walks the strided axis.
	col := x.T().Index(1)
	if want := []float32{1, 4, -1, 7}; !slices.Equal(col.Values(), want) {
		t.Errorf("Index of T = %v, want %v", col.Values(), want)
	}
	mustPanic(t, "Slice past end", func() { x.Slice(2, 5) })
	mustPanic(t, "Slice reversed", func() { x.Slice(2, 1) })
	mustPanic(t, "Slice negative", func() { x.Slice(-1, 2) })
	mustPanic(t, "Slice 0-d", func() { Scalar(1).Slice(0, 1) })
	mustPanic(t, "Index past end", func() { x.Index(4) })
	mustPanic(t, "Index 0-d", func() { Scalar(1).Index(0) })
}

func TestUnsqueeze(t *testing.T) {
	x := seq(2, 3)
	tests := []struct {
		axis  int
		shape []int
	}{
		{0, []int{1, 2, 3}}, {1, []int{2, 1, 3}}, {2, []int{2, 3, 1}},
		{-1, []int{2, 3, 1}}, {-2, []int{2, 1, 3}}, {-3, []int{1, 2, 3}},
	}
	for _, tc := range tests {
		u := x.Unsqueeze(tc.axis)
		if !slices.Equal(u.Shape(), tc.shape) || !u.IsContiguous() || !slices.Equal(u.Values(), x.Values()) {
			t.Errorf("Unsqueeze(%d) = %v strides %v", tc.axis, u.Shape(), u.Strides())
		}
	}
	tu := x.T().Unsqueeze(1)
	checkRef(t, "Unsqueeze of T", tu, ref{shape: []int{3, 1, 2}, v: []float64{0, 3, 1, 4, 2, 5}}, 0)
	if s := Scalar(4).Unsqueeze(0); !s.ShapeIs(1) || s.At(0) != 4 {
		t.Errorf("Unsqueeze of 0-d = %v", s)
	}
	mustPanic(t, "axis 3", func() { x.Unsqueeze(3) })
	mustPanic(t, "axis -4", func() { x.Unsqueeze(-4) })
	mustPanic(t, "past MaxDims", func() { New(1, 1, 1, 1, 1, 1).Unsqueeze(0) })
}

func TestExpand(t *testing.T) {
	b := FromSlice([]float32{1, 2, 3}, 3, 1)
	e := b.Expand(2, 3, 4)
	if !e.ShapeIs(2, 3, 4) || !slices.Equal(e.Strides(), []int{0, 1, 0}) {
		t.Fatalf("Expand = %v strides %v", e.Shape(), e.Strides())
	}
	want := newRef(2, 3, 4)
	for k := range want.v {
		want.v[k] = float64(unravel(k, want.shape)[1] + 1)
	}
	checkRef(t, "Expand", e, want, 0)
	if k := b.Expand(-1, 2); !k.ShapeIs(3, 2) || k.At(2, 1) != 3 {
		t.Errorf("Expand(-1, 2) = %v", k)
	}
	b.Set(10, 0, 0)
	if e.At(1, 0, 3) != 10 {
		t.Errorf("Expand does not share memory")
	}
	if s := Scalar(2).Expand(2, 2); s.At(1, 1) != 2 {
		t.Errorf("Expand of 0-d = %v", s)
	}
	if z := b.Expand(3, 0); z.Len() != 0 {
		t.Errorf("Expand to 0 = %v", z.Shape())
	}
	mustPanic(t, "non-1 axis", func() { b.Expand(3, 3).Expand(3, 4) })
	mustPanic(t, "fewer dims", func() { b.Expand(3) })
	mustPanic(t, "-1 leading", func() { b.Expand(-1, 3, 1) })
	mustPanic(t, "-2", func() { b.Expand(3, -2) })
}

func TestCopyContiguousClone(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 0))
	x := randRef(r, 3, 1, 4)
	for _, l := range layouts {
		src := l.make(x)
		checkRef(t, l.name+" Copy", Copy(New(3, 1, 4), src), x, 0)
		dst := layouts[1].make(newRef(3, 1, 4)) // gapped destination
		checkRef(t, l.name+" Copy into gapped", Copy(dst, src), x, 0)
		c := Contiguous(nil, src)
		checkRef(t, l.name+" Contiguous", c, x, 0)
		if !c.IsContiguous() {
			t.Errorf("%s: Contiguous result not contiguous", l.name)
		}
		if src.IsContiguous() != (c == src) {
			t.Errorf("%s: Contiguous(nil, src) returned src = %v", l.name, c == src)
		}
		cl := src.Clone()
		checkRef(t, l.name+" Clone", cl, x, 0)
		cl.Fill(0)
		checkRef(t, l.name+" source after Clone written", src, x, 0)
	}
	into := New(3, 1, 4)
	if Contiguous(into, FromSlice(f32(x.v), 3, 1, 4)) != into {
		t.Errorf("Contiguous(dst, contiguous) did not copy into dst")
	}
	checkRef(t, "Contiguous into dst", into, x, 0)
	mustPanic(t, "Copy shape", func() { Copy(New(3, 4), New(4, 3)) })
	mustPanic(t, "Copy into expanded", func() { Copy(New(3, 1).Expand(3, 4), New(3, 4)) })
	y := seq(4)
	mustPanic(t, "Copy partial overlap", func() { Copy(y.Slice(0, 3), y.Slice(1, 4)) })
	Copy(y, y)
	if !slices.Equal(y.Values(), []float32{0, 1, 2, 3}) {
		t.Errorf("Copy onto itself = %v", y.Values())
	}
}
