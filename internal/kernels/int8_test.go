package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestInt8Gemm compares the product (the VNNI kernel where the CPU has
// one) and the pure-Go loop with a plain triple loop in int64, at sizes
// around the tile edges (8 rows, 32 pixels, 4 columns) and with extreme
// values.
func TestInt8Gemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cols Int8Cols
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {8, 32, 4}, {16, 16, 4}, {17, 33, 65}, {32, 64, 800}, {64, 300, 3}, {10, 1, 1024}, {9, 97, 25}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b := make([]int8, m*k), make([]int8, n*k) // b: n columns of k
		for i := range a {
			a[i] = int8(rng.IntN(255) - 127)
		}
		for i := range b {
			b[i] = int8(rng.IntN(256) - 128)
		}
		if m == 10 { // the extremes: every product 127*-128 or 127*127
			for i := range a {
				a[i] = 127
			}
			for i := range b {
				b[i] = int8(127 + i%2) // 127, -128
			}
		}
		cols.Reset(n, k)
		col := make([]uint8, k)
		for j := range n {
			for p := range k {
				col[p] = uint8(b[j*k+p]) ^ 0x80 // +128
			}
			cols.SetCol(j, col)
		}
		ldc := n + 3
		w := PackInt8(m, k, a)
		for _, kernel := range []struct {
			name string
			run  func(c []int32)
		}{
			{"Int8Gemm", func(c []int32) { Int8Gemm(w, &cols, c, ldc) }},
			{"Go", func(c []int32) { int8GemmGo(w, &cols, 0, n, c, ldc) }},
		} {
			c := make([]int32, m*ldc)
			kernel.run(c)
			for i := range m {
				for j := range n {
					var want int64
					for p := range k {
						want += int64(a[i*k+p]) * int64(b[j*k+p])
					}
					if int64(c[i*ldc+j]) != want {
						t.Fatalf("%s %dx%dx%d: c[%d,%d] = %d, want %d", kernel.name, m, n, k, i, j, c[i*ldc+j], want)
					}
				}
			}
		}
	}
}

// BenchmarkInt8Gemm times the seed CNN's second convolution's product for
// 64 images (64 outputs, 800 columns, 4,096 pixels) against Sgemm of the
// same shape, side by side.
func BenchmarkInt8Gemm(b *testing.B) {
	m, n, k := 64, 4096, 800
	a8 := make([]int8, m*k)
	for i := range a8 {
		a8[i] = int8(i*7%255 - 127)
	}
	w := PackInt8(m, k, a8)
	var cols Int8Cols
	cols.Reset(n, k)
	c := make([]int32, m*n)
	b.Run("int8", func(b *testing.B) {
		for b.Loop() {
			Int8Gemm(w, &cols, c, n)
		}
		b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
	})
	af, bf, cf := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	b.Run("float32", func(b *testing.B) {
		for b.Loop() {
			Sgemm(false, false, m, n, k, 1, af, k, bf, n, 0, cf, n)
		}
		b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
	})
}

// int8Product draws an m x k weight a and n columns b of k int8 values
// (the columns into cols, as the convolution lowering stores them), and
// per-row scales and biases; it returns them with the packed weight.
func int8Product(rng *rand.Rand, cols *Int8Cols, m, n, k int) (a, b []int8, w *Int8Weights, e Int8Epilogue) {
	a, b = make([]int8, m*k), make([]int8, n*k)
	for i := range a {
		a[i] = int8(rng.IntN(255) - 127)
	}
	for i := range b {
		b[i] = int8(rng.IntN(255) - 127)
	}
	cols.Reset(n, k)
	col := make([]uint8, k)
	for j := range n {
		for p := range k {
			col[p] = uint8(b[j*k+p]) ^ 0x80
		}
		cols.SetCol(j, col)
	}
	w = PackInt8(m, k, a)
	e = Int8Epilogue{Scale: make([]float32, m), Bias: make([]float32, m)}
	for i := range m {
		e.Scale[i], e.Bias[i] = rng.Float32()*1e-3, rng.Float32()-0.5
	}
	return a, b, w, e
}

// TestInt8GemmF32 requires the product with its float32 epilogue (the
// VNNI kernel where the CPU has one) to give the Go loop's bits, and the
// Go loop to give the epilogue of the exact sums, with and without ReLU,
// leaving the rest of out alone.
func TestInt8GemmF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var cols Int8Cols
	for _, sz := range [][3]int{{1, 1, 1}, {9, 97, 25}, {32, 64, 800}, {13, 40, 6}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b, w, e := int8Product(rng, &cols, m, n, k)
		for _, relu := range []bool{false, true} {
			e.ReLU = relu
			ldo := n + 5
			got, ref := make([]float32, m*ldo), make([]float32, m*ldo)
			for i := range got {
				got[i], ref[i] = 7, 7
			}
			Int8GemmF32(w, &cols, e, got, ldo)
			int8GemmF32Go(w, &cols, e, 0, n, ref, ldo)
			for i := range m {
				for j := range ldo {
					if math.Float32bits(got[i*ldo+j]) != math.Float32bits(ref[i*ldo+j]) {
						t.Fatalf("%dx%dx%d relu %v: out[%d,%d] = %g, the Go loop %g", m, n, k, relu, i, j, got[i*ldo+j], ref[i*ldo+j])
					}
					if j >= n {
						if ref[i*ldo+j] != 7 {
							t.Fatalf("out[%d,%d] past the columns written", i, j)
						}
						continue
					}
					var sum int32
					for p := range k {
						sum += int32(a[i*k+p]) * int32(b[j*k+p])
					}
					want := float32(float32(sum)*e.Scale[i]) + e.Bias[i]
					if relu {
						want = max(want, 0)
					}
					if ref[i*ldo+j] != want {
						t.Fatalf("Go loop out[%d,%d] = %g, want %g", i, j, ref[i*ldo+j], want)
					}
				}
			}
		}
	}
}

// TestInt8GemmF32Pool requires the pooled product (the VNNI kernel where
// the CPU has one) to give the Go loop's bits, and the Go loop to give
// the maximum of each window's four epilogue outputs.
func TestInt8GemmF32Pool(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var cols Int8Cols
	for _, sz := range [][3]int{{1, 1, 1}, {9, 13, 25}, {32, 64, 800}, {13, 8, 6}} {
		m, wins, k := sz[0], sz[1], sz[2]
		n := (wins + 7) / 8 * 32
		_, _, w, e := int8Product(rng, &cols, m, n, k)
		for _, relu := range []bool{false, true} {
			e.ReLU = relu
			ldo := wins + 2
			got, ref := make([]float32, m*ldo), make([]float32, m*ldo)
			for i := range got {
				got[i], ref[i] = 7, 7
			}
			Int8GemmF32Pool(w, &cols, e, wins, got, ldo)
			int8GemmF32PoolGo(w, &cols, e, 0, (wins+7)/8, wins, ref, ldo)
			full := make([]float32, m*n)
			int8GemmF32Go(w, &cols, e, 0, n, full, n)
			for i := range m {
				for q := range ldo {
					if math.Float32bits(got[i*ldo+q]) != math.Float32bits(ref[i*ldo+q]) {
						t.Fatalf("%dx%dx%d relu %v: out[%d,%d] = %g, the Go loop %g", m, wins, k, relu, i, q, got[i*ldo+q], ref[i*ldo+q])
					}
					want := float32(7)
					if q < wins {
						g, v := q/8, q%8
						want = float32(math.Inf(-1))
						for tap := range 4 {
							want = max(want, full[i*n+g*32+tap*8+v])
						}
					}
					if ref[i*ldo+q] != want {
						t.Fatalf("Go loop out[%d,%d] = %g, want %g", i, q, ref[i*ldo+q], want)
					}
				}
			}
		}
	}
}
