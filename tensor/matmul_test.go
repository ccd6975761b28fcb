package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refMatMul is batched matrix multiplication by index arithmetic, with the
// batch axes broadcast as in torch.matmul.
func refMatMul(a, b ref) ref {
	na, nb := len(a.shape), len(b.shape)
	M, K, N := a.shape[na-2], a.shape[na-1], b.shape[nb-1]
	batch, ok := refBroadcastShape(a.shape[:na-2], b.shape[:nb-2])
	if !ok || b.shape[nb-2] != K {
		panic("refMatMul: bad shapes")
	}
	out := newRef(append(slices.Clone(batch), M, N)...)
	ab := ref{shape: a.shape[:na-2]}
	bb := ref{shape: b.shape[:nb-2]}
	for k := range out.v {
		idx := unravel(k, out.shape)
		bi, i, j := idx[:len(batch)], idx[len(batch)], idx[len(batch)+1]
		ai, bj := bcastIndex(ab.shape, bi), bcastIndex(bb.shape, bi)
		var s float64
		for p := 0; p < K; p++ {
			s += a.at(append(slices.Clone(ai), i, p)) * b.at(append(slices.Clone(bj), p, j))
		}
		out.v[k] = s
	}
	return out
}

// bcastIndex maps an index of a broadcast shape back to one of shape.
func bcastIndex(shape, idx []int) []int {
	lead := len(idx) - len(shape)
	j := make([]int, len(shape))
	for i := range j {
		if shape[i] != 1 {
			j[i] = idx[lead+i]
		}
	}
	return j
}

// withStrides lays x out with the given strides and offset in a NaN-filled
// buffer, so that any read outside the elements poisons the result.
func withStrides(x ref, strides []int, off int) *Tensor {
	t := &Tensor{ndim: len(x.shape), off: off}
	last := off
	for i := range x.shape {
		t.shape[i], t.strides[i] = x.shape[i], strides[i]
		if x.shape[i] > 0 {
			last += (x.shape[i] - 1) * strides[i]
		}
	}
	t.data = make([]float32, last+3)
	for i := range t.data {
		t.data[i] = float32(math.NaN())
	}
	for k, v := range x.v {
		o := off
		for i, j := range unravel(k, x.shape) {
			o += j * strides[i]
		}
		t.data[o] = float32(v)
	}
	return t
}

// matLayouts adds to layouts the matrix-specific storage patterns: stored
// transposed, rows wider than the matrix (a leading dimension above the
// column count) and a batch stored innermost.
func matLayouts() []layout {
	ls := slices.Clone(layouts)
	ls = append(ls,
		layout{"stored transposed", func(x ref) *Tensor {
			// Each matrix column-major; the batch axes row-major outside.
			n := len(x.shape)
			st := make([]int, n)
			m := max(x.shape[n-2], 1)
			st[n-2], st[n-1] = 1, m
			s := m * max(x.shape[n-1], 1)
			for i := n - 3; i >= 0; i-- {
				st[i] = s
				s *= max(x.shape[i], 1)
			}
			return withStrides(x, st, 0)
		}},
		layout{"wide rows", func(x ref) *Tensor {
			n := len(x.shape)
			st := make([]int, n)
			s := 1
			for i := n - 1; i >= 0; i-- {
				st[i] = s
				s *= x.shape[i] + 2
			}
			return withStrides(x, st, 1)
		}},
	)
	return ls
}

var matmulShapes = [][2][]int{
	{{3, 4}, {4, 5}},
	{{1, 4}, {4, 1}},
	{{5, 1}, {1, 3}},
	{{1, 1}, {1, 1}},
	{{2, 3, 4}, {4, 5}},
	{{3, 4}, {2, 4, 5}},
	{{2, 3, 4}, {2, 4, 5}},
	{{2, 1, 3, 4}, {3, 4, 2}},
	{{1, 3, 4}, {2, 4, 2}},
	{{2, 3, 0}, {0, 4}},
	{{0, 3}, {3, 2}},
	{{3, 2}, {2, 0}},
	{{0, 3, 4}, {4, 2}},
	{{2, 3, 1, 4}, {4, 5}},
	{{2, 3, 2, 4}, {1, 4, 5}},
	{{1, 2, 3}, {2, 2, 3, 4}},
}

func TestMatMulEveryLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 0))
	ls := matLayouts()
	for _, s := range matmulShapes {
		a, b := randRef(r, s[0]...), randRef(r, s[1]...)
		want := refMatMul(a, b)
		for _, la := range ls {
			for _, lb := range ls {
				name := "MatMul" + shapeName(s[0]) + la.name + "@" + shapeName(s[1]) + lb.name
				checkRef(t, name, MatMul(nil, la.make(a), lb.make(b)), want, 1e-5)
			}
		}
		dst := Full(float32(math.NaN()), want.shape...)
		if MatMul(dst, ls[4].make(a), ls[5].make(b)) != dst {
			t.Fatalf("MatMul did not return dst")
		}
		checkRef(t, "MatMul into dst"+shapeName(s[0])+shapeName(s[1]), dst, want, 1e-5)
	}
}

func TestMatMulBroadcastViews(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 0))
	// A row repeated with stride 0, a matrix repeated over the batch with
	// stride 0, and a column broadcast along N.
	row := randRef(r, 1, 4)
	rep := newRef(3, 4)
	for k := range rep.v {
		rep.v[k] = row.v[k%4]
	}
	b := randRef(r, 4, 5)
	checkRef(t, "row stride 0 @ b", MatMul(nil, FromSlice(f32(row.v), 1, 4).Expand(3, 4), FromSlice(f32(b.v), 4, 5)), refMatMul(rep, b), 1e-5)
	checkRef(t, "b^T @ row^T stride 0", MatMul(nil, FromSlice(f32(b.v), 4, 5).T(), FromSlice(f32(row.v), 1, 4).Expand(3, 4).T()), refMatMul(refPermute(b, []int{1, 0}), refPermute(rep, []int{1, 0})), 1e-5)

	a := randRef(r, 2, 3, 4)
	be := FromSlice(f32(b.v), 4, 5).Expand(2, 4, 5)
	checkRef(t, "batch stride 0", MatMul(nil, FromSlice(f32(a.v), 2, 3, 4), be), refMatMul(a, b), 1e-5)

	col := randRef(r, 4, 1)
	wide := newRef(4, 5)
	for k := range wide.v {
		wide.v[k] = col.v[k/5]
	}
	checkRef(t, "column stride 0", MatMul(nil, FromSlice(f32(a.v), 2, 3, 4), FromSlice(f32(col.v), 4, 1).Expand(4, 5)), refMatMul(a, wide), 1e-5)

	// A batch sliced out of a larger one and permuted batch axes.
	big := randRef(r, 4, 3, 4)
	sub := ref{shape: []int{2, 3, 4}, v: big.v[12:36]}
	checkRef(t, "sliced batch", MatMul(nil, FromSlice(f32(big.v), 4, 3, 4).Slice(1, 3), FromSlice(f32(b.v), 4, 5)), refMatMul(sub, b), 1e-5)
	p := randRef(r, 3, 2, 4, 5)
	pp := refPermute(p, []int{1, 0, 2, 3})
	a2 := randRef(r, 2, 3, 2, 4)
	checkRef(t, "permuted batch", MatMul(nil, FromSlice(f32(a2.v), 2, 3, 2, 4), FromSlice(f32(p.v), 3, 2, 4, 5).Permute(1, 0, 2, 3)), refMatMul(a2, pp), 1e-5)
}

func TestMatMulFoldedBatch(t *testing.T) {
	// A batch whose matrices follow one another at the row stride, rows
	// wider than K: the product runs as one tall GEMM with lda 6.
	r := rand.New(rand.NewPCG(23, 0))
	a, b := randRef(r, 3, 2, 4), randRef(r, 4, 5)
	wa := withStrides(a, []int{12, 6, 1}, 2)
	for _, bt := range []*Tensor{FromSlice(f32(b.v), 4, 5), layouts[2].make(b), FromSlice(f32(b.v), 4, 5).Expand(3, 4, 5)} {
		checkRef(t, "folded batch", MatMul(nil, wa, bt), refMatMul(a, b), 1e-5)
	}
	// Same strides but a gap between matrices: must not fold.
	ga := withStrides(a, []int{13, 6, 1}, 0)
	checkRef(t, "gapped batch", MatMul(nil, ga, FromSlice(f32(b.v), 4, 5)), refMatMul(a, b), 1e-5)
}

func TestMatMulPanics(t *testing.T) {
	a, b := seq(3, 4), seq(4, 5)
	mustPanic(t, "rank 1", func() { MatMul(nil, seq(4), b) })
	mustPanic(t, "inner", func() { MatMul(nil, a, seq(5, 4)) })
	mustPanic(t, "batch", func() { MatMul(nil, seq(2, 3, 4), seq(3, 4, 5)) })
	mustPanic(t, "dst shape", func() { MatMul(New(3, 4), a, b) })
	mustPanic(t, "dst non-contiguous", func() { MatMul(New(5, 3).T(), a, b) })
	sq := seq(3, 3)
	mustPanic(t, "dst is a", func() { MatMul(sq, sq, seq(3, 3)) })
	mustPanic(t, "dst is b transposed", func() { MatMul(sq, seq(3, 3), sq.T()) })
	// Disjoint parts of one buffer are fine.
	buf := New(3, 3, 3)
	Copy(buf.Index(1), seq(3, 3))
	Copy(buf.Index(2), seq(3, 3))
	MatMul(buf.Index(0), buf.Index(1), buf.Index(2))
	if buf.At(0, 0, 0) != 15 {
		t.Errorf("MatMul into a disjoint part of a buffer = %v", buf.At(0, 0, 0))
	}
}

func TestMatMulAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 0))
	a, b := New(16, 32).Normal(r, 0, 1), New(32, 8).Normal(r, 0, 1)
	bt := New(8, 32).Normal(r, 0, 1).T()
	ba, bb := New(4, 16, 32).Normal(r, 0, 1), New(4, 32, 8).Normal(r, 0, 1)
	d, bd := New(16, 8), New(4, 16, 8)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"2-D", func() { MatMul(d, a, b) }},
		{"2-D transposed b", func() { MatMul(d, a, bt) }},
		{"batched", func() { MatMul(bd, ba, bb) }},
		{"batched broadcast b", func() { MatMul(bd, ba, b) }},
	} {
		if n := testing.AllocsPerRun(10, tc.f); n != 0 {
			t.Errorf("MatMul %s allocates %v times", tc.name, n)
		}
	}
}

func TestMatMulNaNPropagates(t *testing.T) {
	// As in PyTorch, 0 * NaN and 0 * Inf are NaN: a zero row does not
	// shield the result from a NaN in b.
	nan, inf := math.NaN(), math.Inf(1)
	a := FromSlice([]float32{0, 1, 0, 0}, 2, 2)
	b := FromSlice([]float32{float32(nan), 1, float32(inf), 2}, 2, 2)
	checkRef(t, "MatMul NaN", MatMul(nil, a, b), ref{shape: []int{2, 2}, v: []float64{nan, 2, nan, 0}}, 0)
}
