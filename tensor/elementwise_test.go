package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var binOps = []struct {
	name string
	op   func(dst, a, b *Tensor) *Tensor
	ref  func(x, y float64) float64
}{
	{"Add", Add, func(x, y float64) float64 { return x + y }},
	{"Sub", Sub, func(x, y float64) float64 { return x - y }},
	{"Mul", Mul, func(x, y float64) float64 { return x * y }},
	{"Div", Div, func(x, y float64) float64 { return x / y }},
	{"Maximum", Maximum, refMaximum},
	{"Minimum", Minimum, refMinimum},
}

func refMaximum(x, y float64) float64 {
	if math.IsNaN(x) || math.IsNaN(y) {
		return math.NaN()
	}
	return math.Max(x, y)
}

func refMinimum(x, y float64) float64 {
	if math.IsNaN(x) || math.IsNaN(y) {
		return math.NaN()
	}
	return math.Min(x, y)
}

// broadcastPairs are operand shapes that broadcast, with every placement of
// size-1 and missing axes on either side.
var broadcastPairs = [][2][]int{
	{{2, 3}, {2, 3}},
	{{2, 3, 4}, {3, 1}},
	{{3, 1}, {2, 3, 4}},
	{{1}, {2, 3}},
	{{2, 1, 4}, {5, 1}},
	{{4}, {3, 1}},
	{{2, 1, 3}, {1, 4, 1}},
	{{2, 3}, {}},
	{{}, {2, 3}},
	{{}, {}},
	{{2, 4, 3, 3}, {1, 4, 1, 1}},
	{{2, 3, 4}, {2, 1, 4}},
	{{0, 3}, {3}},
	{{2, 0}, {1, 1}},
	{{1, 1}, {1}},
	{{2, 1, 3, 1, 2, 1}, {4, 1, 5, 1, 3}},
}

func TestBroadcastShape(t *testing.T) {
	for _, p := range broadcastPairs {
		want, _ := refBroadcastShape(p[0], p[1])
		got, ok := BroadcastShape(p[0], p[1])
		if !ok || !slices.Equal(got, want) {
			t.Errorf("BroadcastShape(%v, %v) = %v, %v; want %v", p[0], p[1], got, ok, want)
		}
	}
	for _, p := range [][2][]int{{{2, 3}, {4}}, {{2, 3}, {3, 3}}, {{0}, {2}}, {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}}} {
		if _, ok := BroadcastShape(p[0], p[1]); ok {
			t.Errorf("BroadcastShape(%v, %v) ok", p[0], p[1])
		}
	}
}

func TestBinaryBroadcastEveryLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 0))
	for _, p := range broadcastPairs {
		a, b := randRef(r, p[0]...), randRef(r, p[1]...)
		outShape, _ := refBroadcastShape(p[0], p[1])
		for _, op := range binOps {
			want := refBinary(a, b, op.ref)
			for _, la := range layouts {
				for _, lb := range layouts {
					name := op.name + shapeName(p[0]) + la.name + "," + shapeName(p[1]) + lb.name
					checkRef(t, name, op.op(nil, la.make(a), lb.make(b)), want, 1e-6)
				}
			}
			// Into a provided contiguous and a provided gapped destination.
			name := op.name + shapeName(p[0]) + shapeName(p[1])
			dst := New(outShape...)
			if got := op.op(dst, layouts[2].make(a), layouts[1].make(b)); got != dst {
				t.Fatalf("%s: did not return dst", name)
			}
			checkRef(t, name+" into dst", dst, want, 1e-6)
			gd := layouts[1].make(newRef(outShape...))
			checkRef(t, name+" into gapped dst", op.op(gd, layouts[0].make(a), layouts[3].make(b)), want, 1e-6)
		}
	}
}

func TestBinaryExpandedOperands(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 0))
	a := randRef(r, 2, 3, 4)
	b := randRef(r, 3, 1)
	be := FromSlice(f32(b.v), 3, 1).Expand(2, 3, 4) // stride 0 on axes 0 and 2
	want := refBinary(a, b, func(x, y float64) float64 { return x * y })
	checkRef(t, "Mul by expanded", Mul(nil, FromSlice(f32(a.v), 2, 3, 4), be), want, 1e-6)
	checkRef(t, "Mul of expanded", Mul(nil, be, layouts[2].make(a)), want, 1e-6)
	// An expanded scalar against a row: every element one value.
	s := Scalar(3).Expand(4)
	checkRef(t, "Add expanded scalars", Add(nil, s, s.Unsqueeze(0)), ref{shape: []int{1, 4}, v: []float64{6, 6, 6, 6}}, 0)
}

func TestBinaryInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 0))
	a, b := randRef(r, 2, 3, 4), randRef(r, 3, 1)
	add := func(x, y float64) float64 { return x + y }
	for _, l := range layouts {
		x := l.make(a)
		Add(x, x, FromSlice(f32(b.v), 3, 1))
		checkRef(t, l.name+" Add(x, x, b)", x, refBinary(a, b, add), 1e-6)
		y := l.make(a)
		Mul(y, y, y)
		checkRef(t, l.name+" Mul(y, y, y)", y, refBinary(a, a, func(x, y float64) float64 { return x * y }), 1e-6)
		z := l.make(a)
		Sub(z, l.make(a), z)
		checkRef(t, l.name+" Sub(z, a, z)", z, refBinary(a, a, func(x, y float64) float64 { return x - y }), 1e-6)
	}
	// A view that shows the same elements with an extra size-1 axis is
	// the same memory element for element, so it is not an overlap.
	x := FromSlice(f32(a.v), 2, 3, 4)
	Add(x.Unsqueeze(0), x, x.Unsqueeze(0))
	checkRef(t, "Add through Unsqueeze", x, refBinary(a, a, add), 1e-6)
}

func TestBinaryPanics(t *testing.T) {
	x := seq(2, 3)
	mustPanic(t, "no broadcast", func() { Add(nil, x, seq(2)) })
	mustPanic(t, "wrong dst", func() { Add(New(3, 2), x, x) })
	mustPanic(t, "dst needs broadcast", func() { Add(New(3), x, x) })
	mustPanic(t, "expanded dst", func() { Add(New(1, 3).Expand(2, 3), x, x) })
	v := seq(6)
	mustPanic(t, "shifted overlap", func() { Add(v.Slice(1, 6), v.Slice(0, 5), Scalar(1)) })
	mustPanic(t, "row broadcast over itself", func() { Add(x, x, x.Index(0)) })
	y := seq(3, 3)
	mustPanic(t, "transposed onto itself", func() { Add(y, y.T(), y) })
}

func TestMaximumMinimumNaN(t *testing.T) {
	nan := float32(math.NaN())
	a := FromSlice([]float32{nan, 1, 2, nan, float32(math.Inf(-1))}, 5)
	b := FromSlice([]float32{1, nan, 1, nan, 0}, 5)
	for _, tc := range []struct {
		name string
		got  *Tensor
		want []float64
	}{
		{"Maximum", Maximum(nil, a, b), []float64{math.NaN(), math.NaN(), 2, math.NaN(), 0}},
		{"Minimum", Minimum(nil, a, b), []float64{math.NaN(), math.NaN(), 1, math.NaN(), math.Inf(-1)}},
	} {
		checkRef(t, tc.name, tc.got, ref{shape: []int{5}, v: tc.want}, 0)
	}
}

func TestBinaryAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 0))
	a := New(4, 8, 3, 3).Normal(r, 0, 1)
	bias := New(1, 8, 1, 1).Normal(r, 0, 1)
	dst := New(4, 8, 3, 3)
	p, one := a.Permute(0, 1, 3, 2), Scalar(1)
	tests := []struct {
		name string
		f    func()
	}{
		{"Add same shape", func() { Add(dst, a, a) }},
		{"Mul same shape", func() { Mul(dst, a, a) }},
		{"Add bias", func() { Add(dst, a, bias) }},
		{"Mul bias", func() { Mul(dst, bias, a) }},
		{"Sub scalar", func() { Sub(dst, a, one) }},
		{"Maximum", func() { Maximum(dst, a, bias) }},
		{"Add in place", func() { Add(a, a, bias) }},
		{"Add permuted", func() { Add(dst, a, p) }},
		{"Exp", func() { Exp(dst, a) }},
		{"ReLU in place", func() { ReLU(a, a) }},
		{"Copy", func() { Copy(dst, a) }},
	}
	for _, tc := range tests {
		if n := testing.AllocsPerRun(20, tc.f); n != 0 {
			t.Errorf("%s allocates %v times", tc.name, n)
		}
	}
}

var unaryOps = []struct {
	name string
	op   func(dst, src *Tensor) *Tensor
	ref  func(float64) float64
	tol  float64
}{
	{"Neg", Neg, func(x float64) float64 { return -x }, 0},
	{"Exp", Exp, math.Exp, 1e-6},
	{"Log", Log, math.Log, 1e-6},
	{"Sqrt", Sqrt, math.Sqrt, 1e-6},
	{"Abs", Abs, math.Abs, 0},
	{"Tanh", Tanh, math.Tanh, 1e-6},
	{"Sigmoid", Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 1e-6},
	{"ReLU", ReLU, func(x float64) float64 {
		if x > 0 || math.IsNaN(x) {
			return x
		}
		return 0
	}, 0},
	{"LeakyReLU", func(d, s *Tensor) *Tensor { return LeakyReLU(d, s, 0.1) }, func(x float64) float64 {
		if x > 0 || math.IsNaN(x) {
			return x
		}
		return float64(float32(x) * 0.1)
	}, 0},
	{"GELU", func(d, s *Tensor) *Tensor { return GELU(d, s, false) }, func(x float64) float64 {
		return x / 2 * (1 + math.Erf(x/math.Sqrt2))
	}, 1e-6},
	{"GELUTanh", func(d, s *Tensor) *Tensor { return GELU(d, s, true) }, func(x float64) float64 {
		return x / 2 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}, 1e-6},
	{"AddScalar", func(d, s *Tensor) *Tensor { return AddScalar(d, s, 2.5) }, func(x float64) float64 { return x + 2.5 }, 1e-6},
	{"MulScalar", func(d, s *Tensor) *Tensor { return MulScalar(d, s, -3) }, func(x float64) float64 { return -3 * x }, 1e-6},
	{"PowScalar", func(d, s *Tensor) *Tensor { return PowScalar(d, s, 3) }, func(x float64) float64 { return x * x * x }, 1e-6},
	{"PowScalarHalf", func(d, s *Tensor) *Tensor { return PowScalar(d, s, 0.5) }, func(x float64) float64 { return math.Pow(x, 0.5) }, 1e-6},
	{"Clamp", func(d, s *Tensor) *Tensor { return Clamp(d, s, -0.5, 0.7) }, func(x float64) float64 {
		if math.IsNaN(x) {
			return x
		}
		return math.Min(math.Max(x, -0.5), float64(float32(0.7)))
	}, 0},
}

// unaryInput is random values plus the special ones every op must get right.
func unaryInput(r *rand.Rand) ref {
	x := randRef(r, 3, 4, 5)
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1e-30, 80, -80, 200, -200, 0.5, -0.5}
	for i, v := range special {
		x.v[i*5] = float64(float32(v))
	}
	return x
}

func TestUnaryEveryLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 0))
	x := unaryInput(r)
	for _, op := range unaryOps {
		want := refUnary(x, op.ref)
		for _, l := range layouts {
			checkRef(t, op.name+" "+l.name, op.op(nil, l.make(x)), want, op.tol)
			// In place, into a gapped destination, from an expanded source.
			y := l.make(x)
			op.op(y, y)
			checkRef(t, op.name+" in place "+l.name, y, want, op.tol)
			checkRef(t, op.name+" into gapped "+l.name, op.op(layouts[1].make(newRef(3, 4, 5)), l.make(x)), want, op.tol)
		}
		row := randRef(r, 1, 5)
		wantRow := refUnary(row, op.ref)
		got := op.op(nil, FromSlice(f32(row.v), 1, 5).Expand(3, 5))
		for i := 0; i < 3; i++ {
			checkRef(t, op.name+" of expanded", got.Slice(i, i+1), wantRow, op.tol)
		}
		if s := op.op(nil, Scalar(0.25)); s.NDim() != 0 || !near(float64(s.Item()), op.ref(0.25), op.tol) {
			t.Errorf("%s of 0-d = %v", op.name, s)
		}
		if e := op.op(nil, New(2, 0)); !e.ShapeIs(2, 0) {
			t.Errorf("%s of empty = %v", op.name, e.Shape())
		}
	}
}

func TestUnaryKnownValues(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	x := FromSlice([]float32{-1000, -100, 0, 100, 1000, float32(nan)}, 6)
	checkRef(t, "Sigmoid extremes", Sigmoid(nil, x), ref{shape: []int{6}, v: []float64{0, float64(float32(math.Exp(-100))), 0.5, 1, 1, nan}}, 1e-6)
	one := FromSlice([]float32{1, -1, -3}, 3)
	// gelu(1) = 0.8413447, gelu(-1) = -0.1586553 and the tanh form's
	// gelu(1) = 0.8411920, as torch.nn.functional.gelu gives.
	checkRef(t, "GELU", GELU(nil, one, false), ref{shape: []int{3}, v: []float64{0.8413447460685429, -0.15865525393145707, -0.00404969409489031}}, 1e-6)
	checkRef(t, "GELU tanh", GELU(nil, one, true), ref{shape: []int{3}, v: []float64{0.8411919906082768, -0.15880800939172324, -0.0036373920817729943}}, 1e-6)
	// torch.clamp(x, min=2, max=1) gives 1 everywhere.
	checkRef(t, "Clamp lo > hi", Clamp(nil, FromSlice([]float32{0, 1.5, 3}, 3), 2, 1), ref{shape: []int{3}, v: []float64{1, 1, 1}}, 0)
	checkRef(t, "Log", Log(nil, FromSlice([]float32{0, -1, 1}, 3)), ref{shape: []int{3}, v: []float64{-inf, nan, 0}}, 0)
	if got := SigmoidScalar(-90); got <= 0 || got > 1e-38 {
		t.Errorf("SigmoidScalar(-90) = %v", got)
	}
}

func TestUnaryPanics(t *testing.T) {
	mustPanic(t, "dst shape", func() { Exp(New(3), New(4)) })
	mustPanic(t, "expanded dst", func() { Exp(New(1).Expand(4), New(4)) })
	v := seq(5)
	mustPanic(t, "shifted overlap", func() { Neg(v.Slice(0, 4), v.Slice(1, 5)) })
}
