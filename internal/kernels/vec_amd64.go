//go:build amd64 && !purego

package kernels

// This file routes the vector kernels to AVX2 assembly when the CPU has
// AVX2 and FMA. It leaves out AVX-512 versions: these loops are bound by
// memory, not by vector width.

func axpy(alpha float32, x, y []float32) {
	if hasAVX2 {
		axpyAVX2(alpha, x, y)
		return
	}
	axpyGo(alpha, x, y)
}

func dot(x, y []float32) float32 {
	if hasAVX2 {
		return dotAVX2(x, y)
	}
	return dotGo(x, y)
}

func scale(alpha float32, x []float32) {
	if hasAVX2 {
		scaleAVX2(alpha, x)
		return
	}
	scaleGo(alpha, x)
}

func sum(x []float32) float32 {
	if hasAVX2 {
		return sumAVX2(x)
	}
	return sumGo(x)
}
