package kernels

// This file holds the vector kernels the engine calls on its hot path. Each
// checks lengths and hands the work to assembly where the CPU has it
// (vec_amd64.go) or to the Go loops in vec_generic.go. It leaves out strides:
// callers pass contiguous slices.

import "fmt"

// Axpy computes y[i] += alpha*x[i]. It panics when y is shorter than x.
func Axpy(alpha float32, x, y []float32) {
	if len(y) < len(x) {
		panic(fmt.Sprintf("kernels: Axpy: len(y)=%d < len(x)=%d", len(y), len(x)))
	}
	axpy(alpha, x, y[:len(x)])
}

// Dot returns the sum of x[i]*y[i]. It panics when the lengths differ.
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic(fmt.Sprintf("kernels: Dot: len(x)=%d != len(y)=%d", len(x), len(y)))
	}
	return dot(x, y)
}

// Scale computes x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	scale(alpha, x)
}

// Sum returns the sum of x. The order of the additions is unspecified, so the
// result may differ from a left-to-right sum in the last bits.
func Sum(x []float32) float32 {
	return sum(x)
}
