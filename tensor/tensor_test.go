package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestNewShapesAndStrides(t *testing.T) {
	tests := []struct {
		shape, strides []int
		n              int
	}{
		{nil, []int{}, 1},
		{[]int{5}, []int{1}, 5},
		{[]int{2, 3, 4}, []int{12, 4, 1}, 24},
		{[]int{3, 0, 2}, []int{0, 2, 1}, 0},
		{[]int{1, 1, 1, 1, 1, 7}, []int{7, 7, 7, 7, 7, 1}, 7},
	}
	for _, tc := range tests {
		x := New(tc.shape...)
		if !slices.Equal(x.Shape(), tc.shape) && !(len(tc.shape) == 0 && x.NDim() == 0) {
			t.Errorf("New(%v).Shape() = %v", tc.shape, x.Shape())
		}
		if !slices.Equal(x.Strides(), tc.strides) {
			t.Errorf("New(%v).Strides() = %v, want %v", tc.shape, x.Strides(), tc.strides)
		}
		if x.Len() != tc.n || len(x.Data()) != tc.n {
			t.Errorf("New(%v): Len %d, len(Data) %d, want %d", tc.shape, x.Len(), len(x.Data()), tc.n)
		}
		if !x.IsContiguous() {
			t.Errorf("New(%v) not contiguous", tc.shape)
		}
		for _, v := range x.Data() {
			if v != 0 {
				t.Fatalf("New(%v) not zeroed", tc.shape)
			}
		}
	}
}

func TestConstructorsPanic(t *testing.T) {
	mustPanic(t, "negative dim", func() { New(2, -1) })
	mustPanic(t, "rank 7", func() { New(1, 1, 1, 1, 1, 1, 1) })
	mustPanic(t, "FromSlice length", func() { FromSlice(make([]float32, 5), 2, 3) })
	mustPanic(t, "FromSlice negative", func() { FromSlice(nil, 0, -2) })
}

func TestInitLeavesTensorOnBadLength(t *testing.T) {
	x := FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	mustPanic(t, "Init", func() { x.Init(make([]float32, 3), 2, 2) })
	if !x.ShapeIs(2, 2) || x.At(1, 1) != 4 {
		t.Errorf("failed Init changed the tensor: %v", x)
	}
}

func TestFromSliceSharesData(t *testing.T) {
	d := []float32{1, 2, 3, 4, 5, 6}
	x := FromSlice(d, 2, 3)
	d[4] = 50
	if x.At(1, 1) != 50 {
		t.Errorf("FromSlice copied its data")
	}
	x.Set(7, 0, 2)
	if d[2] != 7 {
		t.Errorf("Set did not write through")
	}
}

func TestScalarFull(t *testing.T) {
	s := Scalar(2.5)
	if s.NDim() != 0 || s.Len() != 1 || s.Item() != 2.5 || s.At() != 2.5 {
		t.Errorf("Scalar(2.5) = %v", s)
	}
	f := Full(-1, 2, 2)
	if !slices.Equal(f.Values(), []float32{-1, -1, -1, -1}) {
		t.Errorf("Full = %v", f)
	}
}

func TestDimAndAxis(t *testing.T) {
	x := New(2, 3, 4)
	for _, tc := range []struct{ i, want int }{{0, 2}, {1, 3}, {2, 4}, {-1, 4}, {-3, 2}} {
		if got := x.Dim(tc.i); got != tc.want {
			t.Errorf("Dim(%d) = %d, want %d", tc.i, got, tc.want)
		}
	}
	mustPanic(t, "Dim(3)", func() { x.Dim(3) })
	mustPanic(t, "Dim(-4)", func() { x.Dim(-4) })
	mustPanic(t, "Dim of 0-d", func() { Scalar(1).Dim(0) })
}

func TestAtSetBounds(t *testing.T) {
	x := New(2, 3)
	mustPanic(t, "too few", func() { x.At(1) })
	mustPanic(t, "too many", func() { x.At(1, 1, 1) })
	mustPanic(t, "negative", func() { x.At(-1, 0) })
	mustPanic(t, "past end", func() { x.Set(1, 0, 3) })
	mustPanic(t, "Item of 2 elements", func() { New(2).Item() })
	if New(1, 1).Item() != 0 {
		t.Errorf("Item of (1,1)")
	}
}

func TestAtAllocatesNothing(t *testing.T) {
	x := New(2, 3)
	var sink float32
	n := testing.AllocsPerRun(100, func() {
		x.Set(3, 1, 2)
		sink += x.At(1, 2)
	})
	if n != 0 {
		t.Errorf("At/Set allocate %v times", n)
	}
}

func TestIsContiguous(t *testing.T) {
	x := New(2, 3, 4)
	tests := []struct {
		name string
		t    *Tensor
		want bool
	}{
		{"fresh", x, true},
		{"0-d", Scalar(1), true},
		{"slice axis 0", x.Slice(1, 2), true},
		{"index", x.Index(1), true},
		{"index then slice inner", x.Index(1).Slice(1, 3), true},
		{"transpose", x.Transpose(1, 2), false},
		{"permute identity", x.Permute(0, 1, 2), true},
		{"slice of transposed inner", x.Transpose(0, 1).Slice(0, 2), false},
		{"unsqueeze", x.Unsqueeze(1), true},
		{"unsqueeze end", x.Unsqueeze(-1), true},
		{"expand size-1 axis", New(3, 1).Expand(3, 4), false},
		{"expand adding size-1 axis", New(3, 1).Expand(1, 3, 1), true},
		{"expand adding a real axis", New(3, 1).Expand(2, 3, 1), false},
		{"size-1 axis odd stride", &Tensor{data: make([]float32, 8), shape: [MaxDims]int{1, 4}, strides: [MaxDims]int{99, 1}, ndim: 2}, true},
		{"empty permuted", New(0, 3).T(), true},
	}
	for _, tc := range tests {
		if got := tc.t.IsContiguous(); got != tc.want {
			t.Errorf("%s: IsContiguous = %v, want %v", tc.name, got, tc.want)
		}
		if !tc.want {
			mustPanic(t, tc.name+": Data", func() { tc.t.Data() })
		} else if len(tc.t.Data()) != tc.t.Len() {
			t.Errorf("%s: len(Data) = %d, want %d", tc.name, len(tc.t.Data()), tc.t.Len())
		}
	}
}

func TestFillZeroView(t *testing.T) {
	x := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	x.T().Slice(1, 2).Fill(9) // column 1
	if want := []float32{1, 9, 3, 4, 9, 6}; !slices.Equal(x.Values(), want) {
		t.Errorf("Fill of a column: %v, want %v", x.Values(), want)
	}
	x.Index(1).Zero()
	if want := []float32{1, 9, 3, 0, 0, 0}; !slices.Equal(x.Values(), want) {
		t.Errorf("Zero of a row: %v, want %v", x.Values(), want)
	}
	x.T().Index(0).Zero()
	if want := []float32{0, 9, 3, 0, 0, 0}; !slices.Equal(x.Values(), want) {
		t.Errorf("Zero of a strided column: %v, want %v", x.Values(), want)
	}
}

func TestValuesOfEveryLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 0))
	for _, shape := range [][]int{{}, {4}, {2, 3}, {2, 1, 3}, {0, 2}} {
		x := randRef(r, shape...)
		for _, l := range layouts {
			got := l.make(x).Values()
			if len(got) != len(x.v) {
				t.Fatalf("%s %v: %d values", l.name, shape, len(got))
			}
			for i := range got {
				if float64(got[i]) != x.v[i] {
					t.Fatalf("%s %v: Values()[%d] = %v, want %v", l.name, shape, i, got[i], x.v[i])
				}
			}
		}
	}
}

func TestString(t *testing.T) {
	if got := FromSlice([]float32{1, 2, 3, 4}, 2, 2).String(); got != "Tensor[2 2][1 2 3 4]" {
		t.Errorf("String = %q", got)
	}
	if got := New(10, 10).String(); got != "Tensor[10 10]" {
		t.Errorf("String of large = %q", got)
	}
	if got := Scalar(3).String(); !strings.HasPrefix(got, "Tensor[][3]") {
		t.Errorf("String of scalar = %q", got)
	}
}

func TestSameShapeAndShapeIs(t *testing.T) {
	a, b := New(2, 3), New(3, 2)
	if SameShape(a, b) || !SameShape(a, b.T()) || !a.ShapeIs(2, 3) || a.ShapeIs(2) || Scalar(1).ShapeIs(1) {
		t.Errorf("SameShape/ShapeIs wrong")
	}
	if !SameShape(Scalar(1), Scalar(2)) || SameShape(Scalar(1), New(1)) {
		t.Errorf("SameShape of 0-d wrong")
	}
}

func TestRandomDeterministicAndInRange(t *testing.T) {
	a := New(1000).Uniform(rand.New(rand.NewPCG(7, 0)), -2, 3)
	b := New(1000).Uniform(rand.New(rand.NewPCG(7, 0)), -2, 3)
	if !slices.Equal(a.Values(), b.Values()) {
		t.Fatalf("Uniform not determined by the seed")
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range a.Data() {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < -2 || hi >= 3 || lo > -1.9 || hi < 2.9 {
		t.Errorf("Uniform(-2,3) range [%v, %v]", lo, hi)
	}
	n := New(20000).Normal(rand.New(rand.NewPCG(8, 0)), 1, 2)
	var s, s2 float64
	for _, v := range n.Data() {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	mean := s / 20000
	std := math.Sqrt(s2/20000 - mean*mean)
	if math.Abs(mean-1) > 0.05 || math.Abs(std-2) > 0.05 {
		t.Errorf("Normal(1,2): mean %v std %v", mean, std)
	}
	// Filling a view touches only its elements.
	m := New(3, 4)
	m.T().Index(2).Uniform(rand.New(rand.NewPCG(9, 0)), 1, 2)
	for i := 0; i < 3; i++ {
		for j := 0; j < 4; j++ {
			if v := m.At(i, j); (j == 2) != (v >= 1) {
				t.Errorf("Uniform of column 2 wrote (%d,%d) = %v", i, j, v)
			}
		}
	}
}
