package kernels

// This file holds the int8 matrix product of quantised inference:
// signed 8-bit operands, 32-bit accumulation, exact. The pure-Go loop is
// the reference; int8_amd64.go routes to an AVX-512 VNNI kernel where the
// CPU has one, which gives the same integers. It leaves out requantising
// the result (package quantize scales the int32 sums itself).

import (
	"runtime"
	"sync"
)

// Int8Dot returns the dot product of a and b (same length) in int32.
func Int8Dot(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// Int8GemmNT computes c[i*ldc+j] = sum over p of a[i*k+p] * b[j*k+p]:
// a is m×k (one row per output channel), b is n×k (one row per pixel or
// example), both row-major, and c is m×n with row stride ldc. Sums are
// exact while k*127*127 fits an int32 (k < 133,000). Large products are
// split over GOMAXPROCS goroutines by columns.
func Int8GemmNT(m, n, k int, a, b []int8, c []int32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if len(a) < m*k || len(b) < n*k || len(c) < (m-1)*ldc+n || ldc < n {
		panic("kernels: Int8GemmNT: slices too short for the sizes")
	}
	threads := min(runtime.GOMAXPROCS(0), max(1, m*n*k/(1<<16)), n)
	if threads <= 1 {
		int8GemmNT(m, 0, n, k, a, b, c, ldc)
		return
	}
	var wg sync.WaitGroup
	per := (n + threads - 1) / threads
	for j0 := 0; j0 < n; j0 += per {
		wg.Add(1)
		go func(j0, j1 int) {
			defer wg.Done()
			int8GemmNT(m, j0, j1, k, a, b, c, ldc)
		}(j0, min(j0+per, n))
	}
	wg.Wait()
}

// int8GemmNTGo is the pure-Go kernel for columns j0 to j1.
func int8GemmNTGo(m, j0, j1, k int, a, b []int8, c []int32, ldc int) {
	for j := j0; j < j1; j++ {
		bj := b[j*k : (j+1)*k]
		for i := range m {
			c[i*ldc+j] = Int8Dot(a[i*k:(i+1)*k], bj)
		}
	}
}
