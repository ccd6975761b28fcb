//go:build !amd64 || purego

package kernels

// This file routes the vector kernels to the Go loops where there is no
// assembly. It leaves out nothing else.

func axpy(alpha float32, x, y []float32) { axpyGo(alpha, x, y) }

func dot(x, y []float32) float32 { return dotGo(x, y) }

func scale(alpha float32, x []float32) { scaleGo(alpha, x) }

func sum(x []float32) float32 { return sumGo(x) }
