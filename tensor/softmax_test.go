package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refLSE is log(sum(exp(x))) along axis in float64 with the max shift, the
// max taken as 0 when infinite, as torch.logsumexp does.
func refLSE(x ref, axis int, keepdim bool) ref {
	m := refReduce(x, axis, true, refMaximum, func(a float64, _ int) float64 { return a })
	s := refBinary(x, m, func(v, mx float64) float64 {
		if math.IsInf(mx, 0) {
			mx = 0
		}
		return math.Exp(v - mx)
	})
	sum := refReduce(s, axis, true, func(a, v float64) float64 { return a + v }, func(a float64, _ int) float64 { return a })
	out := refBinary(m, sum, func(mx, s float64) float64 {
		if math.IsInf(mx, 0) {
			mx = 0
		}
		return mx + math.Log(s)
	})
	if !keepdim {
		out.shape = slices.Delete(slices.Clone(out.shape), axis, axis+1)
	}
	return out
}

// refSoftmax is exp(x - max) / sum over axis, with PyTorch's NaN rows.
func refSoftmax(x ref, axis int, logOut bool) ref {
	m := refReduce(x, axis, true, refMaximum, func(a float64, _ int) float64 { return a })
	sh := refBinary(x, m, func(v, mx float64) float64 { return v - mx })
	e := refUnary(sh, math.Exp)
	sum := refReduce(e, axis, true, func(a, v float64) float64 { return a + v }, func(a float64, _ int) float64 { return a })
	if logOut {
		return refBinary(sh, sum, func(v, s float64) float64 { return v - math.Log(s) })
	}
	return refBinary(e, sum, func(v, s float64) float64 { return v / s })
}

func TestSoftmaxEveryAxisAndLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(30, 0))
	for _, shape := range [][]int{{5}, {3, 4}, {2, 3, 4}, {2, 1, 3}} {
		x := randRef(r, shape...)
		for i := range x.v {
			x.v[i] = float64(float32(x.v[i] * 10)) // wide enough to need the shift
		}
		for axis := -len(shape); axis < len(shape); axis++ {
			ax := (axis + len(shape)) % len(shape)
			for _, l := range layouts {
				name := shapeName(shape) + l.name
				checkRef(t, "Softmax"+name, Softmax(nil, l.make(x), axis), refSoftmax(x, ax, false), 1e-6)
				checkRef(t, "LogSoftmax"+name, LogSoftmax(nil, l.make(x), axis), refSoftmax(x, ax, true), 1e-6)
				for _, keep := range []bool{false, true} {
					checkRef(t, "LogSumExp"+name, LogSumExp(nil, l.make(x), axis, keep), refLSE(x, ax, keep), 1e-6)
				}
			}
			// In place.
			y := FromSlice(f32(x.v), shape...)
			Softmax(y, y, axis)
			checkRef(t, "Softmax in place", y, refSoftmax(x, ax, false), 1e-6)
			y = FromSlice(f32(x.v), shape...)
			LogSoftmax(y, y, axis)
			checkRef(t, "LogSoftmax in place", y, refSoftmax(x, ax, true), 1e-6)
		}
	}
}

func TestSoftmaxSpecialRows(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	x := FromSlice([]float32{
		float32(-inf), float32(-inf), float32(-inf), // all -Inf
		0, float32(-inf), 0, // masked position
		1, float32(nan), 2, // NaN
		float32(inf), 1, 0, // +Inf
		1000, 0, -1000, // would overflow without the shift
		float32(inf), float32(-inf), 0, // both infinities
	}, 6, 3)
	checkRef(t, "Softmax", Softmax(nil, x, 1), ref{shape: []int{6, 3}, v: []float64{
		nan, nan, nan,
		0.5, 0, 0.5,
		nan, nan, nan,
		nan, nan, nan,
		1, 0, 0,
		nan, nan, nan,
	}}, 1e-6)
	checkRef(t, "LogSoftmax", LogSoftmax(nil, x, 1), ref{shape: []int{6, 3}, v: []float64{
		nan, nan, nan,
		-math.Ln2, -inf, -math.Ln2,
		nan, nan, nan,
		nan, nan, nan,
		0, -1000, -2000,
		nan, nan, nan,
	}}, 1e-6)
	// torch.logsumexp: -Inf for a row of -Inf, +Inf when +Inf is present.
	checkRef(t, "LogSumExp", LogSumExp(nil, x, 1, false), ref{shape: []int{6}, v: []float64{
		-inf, math.Ln2, nan, inf, 1000, inf,
	}}, 1e-6)
	checkRef(t, "LogSumExp empty", LogSumExp(nil, New(2, 0), 1, true), ref{shape: []int{2, 1}, v: []float64{-inf, -inf}}, 0)
}

func TestSoftmaxScalarAndEmpty(t *testing.T) {
	s := Scalar(3)
	if got := Softmax(nil, s, 0); got.NDim() != 0 || got.Item() != 1 {
		t.Errorf("Softmax of 0-d = %v", got)
	}
	if got := LogSoftmax(nil, s, -1); got.NDim() != 0 || got.Item() != 0 {
		t.Errorf("LogSoftmax of 0-d = %v", got)
	}
	if got := LogSumExp(nil, s, 0, true); got.NDim() != 0 || got.Item() != 3 {
		t.Errorf("LogSumExp of 0-d = %v", got)
	}
	if got := Softmax(nil, New(0, 3), 1); !got.ShapeIs(0, 3) {
		t.Errorf("Softmax of empty = %v", got.Shape())
	}
	mustPanic(t, "axis 1 of 0-d", func() { Softmax(nil, s, 1) })
	mustPanic(t, "dst shape", func() { Softmax(New(3), New(4), 0) })
	mustPanic(t, "non-contiguous dst", func() { Softmax(New(3, 2).T(), New(2, 3), 1) })
	mustPanic(t, "LogSumExp dst shape", func() { LogSumExp(New(3), New(3, 4), 1, true) })
	x := seq(3, 3)
	mustPanic(t, "transposed onto itself", func() { Softmax(x, x.T(), 1) })
}

func TestSoftmaxSumsToOne(t *testing.T) {
	x := New(8, 50).Normal(rand.New(rand.NewPCG(31, 0)), 0, 20)
	p := Softmax(nil, x, -1)
	s := Sum(nil, p, -1, false)
	for i, v := range s.Data() {
		if math.Abs(float64(v)-1) > 1e-5 {
			t.Errorf("row %d sums to %v", i, v)
		}
	}
}

func TestSoftmaxAllocatesNothing(t *testing.T) {
	x := New(8, 50).Normal(rand.New(rand.NewPCG(32, 0)), 0, 1)
	d, l := New(8, 50), New(8)
	if n := testing.AllocsPerRun(10, func() { Softmax(d, x, -1) }); n != 0 {
		t.Errorf("Softmax allocates %v times", n)
	}
	if n := testing.AllocsPerRun(10, func() { LogSumExp(l, x, 1, false) }); n != 0 {
		t.Errorf("LogSumExp allocates %v times", n)
	}
}
