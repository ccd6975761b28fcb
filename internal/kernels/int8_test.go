package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestInt8GemmNT compares the product with a plain triple loop in int64,
// at sizes around the kernels' tile edges and with extreme values.
func TestInt8GemmNT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {16, 16, 4}, {17, 33, 65}, {32, 64, 800}, {64, 300, 3}, {10, 1, 1024}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b := make([]int8, m*k), make([]int8, n*k)
		for i := range a {
			a[i] = int8(rng.IntN(255) - 127)
		}
		for i := range b {
			b[i] = int8(rng.IntN(255) - 127)
		}
		if m == 10 { // the extremes: every product 127*127 or -127*127
			for i := range a {
				a[i], b[i%len(b)] = 127, -127
			}
		}
		ldc := n + 3
		c := make([]int32, m*ldc)
		Int8GemmNT(m, n, k, a, b, c, ldc)
		for i := range m {
			for j := range n {
				var want int64
				for p := range k {
					want += int64(a[i*k+p]) * int64(b[j*k+p])
				}
				if int64(c[i*ldc+j]) != want {
					t.Fatalf("%dx%dx%d: c[%d,%d] = %d, want %d", m, n, k, i, j, c[i*ldc+j], want)
				}
			}
		}
	}
}
