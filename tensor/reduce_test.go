package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refReduce folds x over axis with f, starting from the first element.
func refReduce(x ref, axis int, keepdim bool, f func(acc, v float64) float64, final func(acc float64, n int) float64) ref {
	var shape []int
	for i, d := range x.shape {
		switch {
		case i != axis:
			shape = append(shape, d)
		case keepdim:
			shape = append(shape, 1)
		}
	}
	n := x.shape[axis]
	out := newRef(shape...)
	full := slices.Clone(x.shape)
	full[axis] = 1
	for k := range out.v {
		idx := unravel(k, full)
		idx[axis] = 0
		acc := x.at(idx)
		for j := 1; j < n; j++ {
			idx[axis] = j
			acc = f(acc, x.at(idx))
		}
		out.v[k] = final(acc, n)
	}
	return out
}

var reduceOps = []struct {
	name  string
	op    func(dst, src *Tensor, axis int, keepdim bool) *Tensor
	f     func(acc, v float64) float64
	final func(acc float64, n int) float64
	tol   float64
}{
	{"Sum", Sum, func(a, v float64) float64 { return a + v }, func(a float64, _ int) float64 { return a }, 1e-5},
	{"Mean", Mean, func(a, v float64) float64 { return a + v }, func(a float64, n int) float64 { return a / float64(n) }, 1e-5},
	{"Max", Max, refMaximum, func(a float64, _ int) float64 { return a }, 0},
	{"Min", Min, refMinimum, func(a float64, _ int) float64 { return a }, 0},
}

func TestReduceEveryAxisAndLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 0))
	for _, shape := range [][]int{{7}, {3, 4}, {2, 3, 4}, {2, 1, 5, 3}, {4, 1}} {
		x := randRef(r, shape...)
		for _, op := range reduceOps {
			for axis := -len(shape); axis < len(shape); axis++ {
				ax := (axis + len(shape)) % len(shape)
				for _, keep := range []bool{false, true} {
					want := refReduce(x, ax, keep, op.f, op.final)
					for _, l := range layouts {
						name := op.name + shapeName(shape) + l.name
						checkRef(t, name, op.op(nil, l.make(x), axis, keep), want, op.tol)
					}
					dst := New(want.shape...)
					if op.op(dst, layouts[2].make(x), axis, keep) != dst {
						t.Fatalf("%s: did not return dst", op.name)
					}
					checkRef(t, op.name+" into dst", dst, want, op.tol)
				}
			}
		}
	}
}

func TestReduceNaNAndInf(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	x := FromSlice([]float32{
		1, float32(nan), 3,
		float32(-inf), float32(-inf), float32(-inf),
		float32(nan), 5, float32(inf),
	}, 3, 3)
	for _, tc := range []struct {
		name string
		got  *Tensor
		want []float64
	}{
		{"Max rows", Max(nil, x, 1, false), []float64{nan, -inf, nan}},
		{"Min rows", Min(nil, x, 1, false), []float64{nan, -inf, nan}},
		{"Max cols", Max(nil, x, 0, false), []float64{nan, nan, inf}},
		{"Min cols", Min(nil, x, 0, false), []float64{nan, nan, -inf}},
		{"Sum cols", Sum(nil, x, 0, false), []float64{nan, nan, nan}},
		{"Sum rows", Sum(nil, x, 1, false), []float64{nan, -inf, nan}},
	} {
		checkRef(t, tc.name, tc.got, ref{shape: []int{3}, v: tc.want}, 0)
	}
}

func TestReduceEmptyAndScalar(t *testing.T) {
	nan := math.NaN()
	e := New(0, 3)
	checkRef(t, "Sum over empty axis", Sum(nil, e, 0, false), ref{shape: []int{3}, v: []float64{0, 0, 0}}, 0)
	checkRef(t, "Mean over empty axis", Mean(nil, e, 0, true), ref{shape: []int{1, 3}, v: []float64{nan, nan, nan}}, 0)
	checkRef(t, "Sum of empty rows", Sum(nil, e, 1, false), ref{shape: []int{0}}, 0)
	checkRef(t, "Max of empty rows", Max(nil, e, 1, false), ref{shape: []int{0}}, 0)
	mustPanic(t, "Max over empty axis", func() { Max(nil, e, 0, false) })
	mustPanic(t, "Min over empty axis", func() { Min(nil, New(3, 0), -1, false) })
	if SumAll(e) != 0 {
		t.Errorf("SumAll of empty")
	}
	s := Scalar(2.5)
	for _, op := range reduceOps {
		for _, axis := range []int{0, -1} {
			for _, keep := range []bool{false, true} {
				got := op.op(nil, s, axis, keep)
				if got.NDim() != 0 || got.Item() != 2.5 {
					t.Errorf("%s of 0-d over %d keepdim=%v = %v", op.name, axis, keep, got)
				}
			}
		}
		mustPanic(t, op.name+" of 0-d over axis 1", func() { op.op(nil, s, 1, false) })
	}
	if got := ArgMax(s, -1); !slices.Equal(got, []int{0}) {
		t.Errorf("ArgMax of 0-d = %v", got)
	}
}

func TestReducePanics(t *testing.T) {
	x := seq(2, 3)
	mustPanic(t, "axis", func() { Sum(nil, x, 2, false) })
	mustPanic(t, "dst shape", func() { Sum(New(2, 1), x, 1, false) })
	mustPanic(t, "non-contiguous dst", func() { Sum(New(3, 2).T(), seq(2, 3, 2), 1, false) })
	mustPanic(t, "dst overlaps src", func() { Sum(x.Index(0).Slice(0, 2), x.T(), 1, false) })
}

func TestReduceAllocatesNothing(t *testing.T) {
	x := New(8, 16, 4).Normal(rand.New(rand.NewPCG(11, 0)), 0, 1)
	d0, d2 := New(16, 4), New(8, 16, 1)
	if n := testing.AllocsPerRun(20, func() { Sum(d0, x, 0, false) }); n != 0 {
		t.Errorf("Sum over axis 0 allocates %v times", n)
	}
	if n := testing.AllocsPerRun(20, func() { Max(d2, x, -1, true) }); n != 0 {
		t.Errorf("Max over the last axis allocates %v times", n)
	}
	if n := testing.AllocsPerRun(20, func() { SumAll(x) }); n != 0 {
		t.Errorf("SumAll allocates %v times", n)
	}
}

func TestSumAll(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 0))
	x := randRef(r, 3, 5, 2)
	var want float64
	for _, v := range x.v {
		want += v
	}
	for _, l := range layouts {
		if got := SumAll(l.make(x)); !near(float64(got), want, 1e-6) {
			t.Errorf("SumAll %s = %v, want %v", l.name, got, want)
		}
	}
	// float64 accumulation: 1e8 + many ones keeps the ones.
	big := Full(1, 1001)
	big.Set(1e8, 0)
	if got := SumAll(big); got != 1e8+1000 {
		t.Errorf("SumAll lost precision: %v", got)
	}
}

func refArgMax(x ref, axis int) []int {
	full := slices.Clone(x.shape)
	full[axis] = 1
	out := make([]int, numel(full))
	for k := range out {
		idx := unravel(k, full)
		best := 0
		for j := 0; j < x.shape[axis]; j++ {
			idx[axis] = j
			v := x.at(idx)
			idx[axis] = best
			b := x.at(idx)
			if !math.IsNaN(b) && (math.IsNaN(v) || v > b) {
				best = j
			}
		}
		out[k] = best
	}
	return out
}

func TestArgMax(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 0))
	x := randRef(r, 3, 4, 5)
	x.v[7], x.v[27] = math.NaN(), math.NaN()
	x.v[3] = x.v[23] // a tie along axis 1 somewhere
	for _, l := range layouts {
		for axis := 0; axis < 3; axis++ {
			want := refArgMax(x, axis)
			if got := ArgMax(l.make(x), axis-3); !slices.Equal(got, want) {
				t.Errorf("ArgMax %s axis %d = %v, want %v", l.name, axis, got, want)
			}
		}
	}
	for _, tc := range []struct {
		v    []float32
		want int
	}{
		{[]float32{1, 3, 3, 2}, 1},
		{[]float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, 0},
		{[]float32{1, float32(math.NaN()), 5, float32(math.NaN())}, 1},
		{[]float32{float32(math.NaN()), 5}, 0},
	} {
		if got := ArgMax(FromSlice(tc.v, len(tc.v)), 0); got[0] != tc.want {
			t.Errorf("ArgMax(%v) = %v, want %d", tc.v, got, tc.want)
		}
	}
	mustPanic(t, "ArgMaxInto length", func() { ArgMaxInto(make([]int, 2), New(3, 4), 1) })
	mustPanic(t, "ArgMax over empty axis", func() { ArgMax(New(3, 0), 1) })
	if got := ArgMax(New(0, 4), 1); len(got) != 0 {
		t.Errorf("ArgMax of empty rows = %v", got)
	}
}

func TestSumTo(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 0))
	// SumTo(small, big) must equal the adjoint of broadcasting small to
	// big: sum of big over the positions that read each small element.
	pairs := [][2][]int{
		{{3, 1}, {2, 3, 4}},
		{{4}, {2, 3, 4}},
		{{}, {2, 3}},
		{{1, 4, 1, 1}, {2, 4, 3, 3}},
		{{2, 3, 4}, {2, 3, 4}},
		{{1, 1}, {2, 3}},
		{{2, 1, 4}, {5, 2, 3, 4}},
		{{3}, {0, 3}},
	}
	for _, p := range pairs {
		big := randRef(r, p[1]...)
		want := newRef(p[0]...)
		for k, v := range big.v {
			idx := unravel(k, p[1])
			lead := len(p[1]) - len(p[0])
			j := make([]int, len(p[0]))
			for i := range j {
				if p[0][i] != 1 {
					j[i] = idx[lead+i]
				}
			}
			want.v[ravel(j, p[0])] += v
		}
		for _, l := range layouts {
			dst := Full(99, p[0]...) // overwritten, not accumulated into
			checkRef(t, "SumTo"+shapeName(p[0])+l.name, SumTo(dst, l.make(big)), want, 1e-5)
			gd := layouts[1].make(newRef(p[0]...))
			checkRef(t, "SumTo gapped dst"+shapeName(p[0])+l.name, SumTo(gd, l.make(big)), want, 1e-5)
		}
	}
	for _, p := range [][2][]int{{{3}, {1}}, {{2, 3}, {3}}, {{4}, {2, 3}}, {{2, 1}, {3, 1}}} {
		mustPanic(t, "SumTo"+shapeName(p[0])+shapeName(p[1]), func() { SumTo(New(p[0]...), New(p[1]...)) })
	}
	bias := New(1, 8, 1, 1)
	g := New(4, 8, 3, 3)
	if n := testing.AllocsPerRun(20, func() { SumTo(bias, g) }); n != 0 {
		t.Errorf("SumTo allocates %v times", n)
	}
}
