package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// vecImpl is one implementation of the vector kernels; vecImpls (per build)
// lists those this CPU runs so the Go loops are tested on amd64 too.
type vecImpl struct {
	name  string
	axpy  func(alpha float32, x, y []float32)
	dot   func(x, y []float32) float32
	scale func(alpha float32, x []float32)
	sum   func(x []float32) float32
}

var goVec = vecImpl{"go", axpyGo, dotGo, scaleGo, sumGo}

// publicVec routes through the exported functions and their dispatch.
var publicVec = vecImpl{"public", Axpy, Dot, Scale, Sum}

// vecLengths covers every tail length of the 32-wide unrolled loops, plus
// long vectors; offsets shift the start off 32-byte alignment.
func vecLengths() []int {
	var ns []int
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	return append(ns, 255, 1000, 4099)
}

func TestVecKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 0))
	for _, im := range append(vecImpls(), publicVec) {
		t.Run(im.name, func(t *testing.T) {
			for _, n := range vecLengths() {
				for _, off := range []int{0, 1, 3} {
					testVecOnce(t, im, n, off, rng)
				}
			}
		})
	}
}

func testVecOnce(t *testing.T, im vecImpl, n, off int, rng *rand.Rand) {
	t.Helper()
	const eps = 0x1p-24
	x := randSlice(rng, n+off)[off:]
	y0 := randSlice(rng, n+off+5)[off:]
	alpha := float32(-1.75)
	where := fmt.Sprintf("n=%d off=%d", n, off)

	// Axpy: one or two roundings per element, and y past len(x) untouched.
	y := append([]float32(nil), y0...)
	im.axpy(alpha, x, y[:n])
	for i := range y {
		want, bound := float64(y0[i]), 0.0
		if i < n {
			ax := float64(alpha) * float64(x[i])
			want += ax
			bound = 2 * eps * (math.Abs(float64(y0[i])) + math.Abs(ax))
		}
		if d := math.Abs(float64(y[i]) - want); d > bound {
			t.Fatalf("axpy %s: y[%d] = %g, want %g", where, i, y[i], want)
		}
	}

	// Scale: a single rounded product, so exact.
	s := append([]float32(nil), x...)
	im.scale(alpha, s)
	for i := range s {
		if s[i] != alpha*x[i] {
			t.Fatalf("scale %s: x[%d] = %g, want %g", where, i, s[i], alpha*x[i])
		}
	}

	// Dot and Sum: any order of additions, within n roundings of the
	// sum of magnitudes.
	var dot, dotAbs, sum, sumAbs float64
	for i := 0; i < n; i++ {
		p := float64(x[i]) * float64(y0[i])
		dot += p
		dotAbs += math.Abs(p)
		sum += float64(x[i])
		sumAbs += math.Abs(float64(x[i]))
	}
	if got := im.dot(x, y0[:n]); math.Abs(float64(got)-dot) > float64(n+1)*eps*dotAbs {
		t.Fatalf("dot %s = %g, want %g", where, got, dot)
	}
	if got := im.sum(x); math.Abs(float64(got)-sum) > float64(n+1)*eps*sumAbs {
		t.Fatalf("sum %s = %g, want %g", where, got, sum)
	}
}

func TestVecPanics(t *testing.T) {
	cases := []struct {
		name string
		call func()
	}{
		{"Axpy short y", func() { Axpy(1, make([]float32, 5), make([]float32, 4)) }},
		{"Dot mismatch", func() { Dot(make([]float32, 5), make([]float32, 6)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.call()
		})
	}
}

func BenchmarkVec(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 0))
	for _, n := range []int{4096, 1 << 20} {
		x, y := randSlice(rng, n), randSlice(rng, n)
		for _, im := range vecImpls() {
			b.Run(fmt.Sprintf("Axpy/%s/%d", im.name, n), func(b *testing.B) {
				b.SetBytes(int64(12 * n))
				for range b.N {
					im.axpy(1e-7, x, y)
				}
			})
			b.Run(fmt.Sprintf("Dot/%s/%d", im.name, n), func(b *testing.B) {
				b.SetBytes(int64(8 * n))
				for range b.N {
					_ = im.dot(x, y)
				}
			})
			b.Run(fmt.Sprintf("Scale/%s/%d", im.name, n), func(b *testing.B) {
				b.SetBytes(int64(8 * n))
				for range b.N {
					im.scale(1, x)
				}
			})
			b.Run(fmt.Sprintf("Sum/%s/%d", im.name, n), func(b *testing.B) {
				b.SetBytes(int64(4 * n))
				for range b.N {
					_ = im.sum(x)
				}
			})
		}
	}
}
