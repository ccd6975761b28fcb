package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPCAKnownAxes builds points whose centred coordinates along two
// orthonormal directions u1, u2 of R^4 are (±3, ±1) and checks that PCA
// finds u1 then u2 with variances 12 and 4/3 (four points, divisor 3), the
// sign convention, and the projected coordinates.
func TestPCAKnownAxes(t *testing.T) {
	u1 := []float64{0.5, 0.5, 0.5, 0.5}
	s12 := math.Sqrt(12)
	u2 := []float64{3 / s12, -1 / s12, -1 / s12, -1 / s12} // largest entry positive, as the convention wants
	mean := []float64{1, -2, 3, 0.5}
	coords := [][2]float64{{3, 1}, {3, -1}, {-3, 1}, {-3, -1}}
	x := make([][]float64, len(coords))
	for i, c := range coords {
		x[i] = make([]float64, 4)
		for j := range 4 {
			x[i][j] = mean[j] + c[0]*u1[j] + c[1]*u2[j]
		}
	}
	p, err := FitPCA(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.12g, want %.12g", what, got, want)
		}
	}
	near("variance 0", p.Variance[0], 12, 1e-12)
	near("variance 1", p.Variance[1], 4.0/3, 1e-12)
	near("total", p.Total, 12+4.0/3, 1e-12)
	for j := range 4 {
		near("mean", p.Mean[j], mean[j], 1e-12)
		near("component 0", p.Components[0][j], u1[j], 1e-9)
		near("component 1", p.Components[1][j], u2[j], 1e-9)
	}
	pts, _, err := Project2D(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range coords {
		near("x coordinate", pts[i][0], c[0], 1e-9)
		near("y coordinate", pts[i][1], c[1], 1e-9)
	}
}

// TestPCASignConvention: every component's entry of largest magnitude is
// positive, and variances decrease.
func TestPCASignConvention(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([][]float64, 50)
	for i := range x {
		a, b := 4*r.NormFloat64(), r.NormFloat64()
		x[i] = []float64{a + 0.1*b, -2 * a, b}
	}
	p, err := FitPCA(x, 3)
	if err != nil {
		t.Fatal(err)
	}
	for k, comp := range p.Components {
		big := 0
		for j := range comp {
			if math.Abs(comp[j]) > math.Abs(comp[big]) {
				big = j
			}
		}
		if comp[big] <= 0 {
			t.Errorf("component %d = %v: largest entry not positive", k, comp)
		}
		if k > 0 && p.Variance[k] > p.Variance[k-1] {
			t.Errorf("variances %v not decreasing", p.Variance)
		}
	}
}

// TestSymEigen checks A v = λ v, orthonormality and ordering on random
// symmetric matrices, including one with a repeated eigenvalue.
func TestSymEigen(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{1, 2, 5, 17} {
		a := make([]float64, d*d)
		for i := range d {
			for j := i; j < d; j++ {
				a[i*d+j] = r.NormFloat64()
				a[j*d+i] = a[i*d+j]
			}
		}
		checkEigen(t, a, d)
	}
	// diag(2, 2, 1) rotated: a repeated eigenvalue.
	checkEigen(t, []float64{2, 0, 0, 0, 1.5, 0.5, 0, 0.5, 1.5}, 3)
}

func checkEigen(t *testing.T, a []float64, d int) {
	t.Helper()
	vals, vecs, err := SymEigen(a, d)
	if err != nil {
		t.Fatal(err)
	}
	for k := range d {
		if k > 0 && vals[k] > vals[k-1] {
			t.Errorf("d=%d: eigenvalues %v not decreasing", d, vals)
		}
		for i := range d {
			var av float64
			for j := range d {
				av += a[i*d+j] * vecs[j*d+k]
			}
			if math.Abs(av-vals[k]*vecs[i*d+k]) > 1e-10 {
				t.Errorf("d=%d: (A v%d)[%d] = %g, λ v = %g", d, k, i, av, vals[k]*vecs[i*d+k])
			}
		}
		for l := range d {
			var dot float64
			for i := range d {
				dot += vecs[i*d+k] * vecs[i*d+l]
			}
			want := 0.0
			if k == l {
				want = 1
			}
			if math.Abs(dot-want) > 1e-10 {
				t.Errorf("d=%d: v%d . v%d = %g, want %g", d, k, l, dot, want)
			}
		}
	}
}

func TestPCAErrors(t *testing.T) {
	for name, c := range map[string]struct {
		x [][]float64
		k int
	}{
		"one row":   {[][]float64{{1, 2}}, 1},
		"k zero":    {[][]float64{{1, 2}, {3, 4}}, 0},
		"k > d":     {[][]float64{{1, 2}, {3, 4}}, 3},
		"ragged":    {[][]float64{{1, 2}, {3}}, 1},
		"nan":       {[][]float64{{1, math.NaN()}, {3, 4}}, 1},
		"no column": {[][]float64{{}, {}}, 1},
	} {
		if _, err := FitPCA(c.x, c.k); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := Project2D(nil); err == nil {
		t.Error("Project2D(nil): no error")
	}
	if _, _, err := SymEigen([]float64{1, 2, 3}, 2); err == nil {
		t.Error("SymEigen of a wrong length: no error")
	}
}

// TestProject2DOneFeature: a single feature gives a zero second coordinate.
func TestProject2DOneFeature(t *testing.T) {
	pts, _, err := Project2D([][]float64{{1}, {3}, {5}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{-2, 0, 2} {
		if math.Abs(pts[i][0]-want) > 1e-12 || pts[i][1] != 0 {
			t.Errorf("point %d = %v, want (%g, 0)", i, pts[i], want)
		}
	}
}

func BenchmarkFitPCA(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([][]float64, 2000)
	for i := range x {
		x[i] = make([]float64, 64)
		for j := range x[i] {
			x[i][j] = r.NormFloat64()
		}
	}
	for b.Loop() {
		if _, err := FitPCA(x, 2); err != nil {
			b.Fatal(err)
		}
	}
}
