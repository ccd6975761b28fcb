package kernels

// This file is the ReLU's loops over flat slices, AVX-512 where the CPU
// has it (step_amd64.go) and these Go loops for the rest, to the same bits.

import "math"

// ReLU writes dst[i] = max(src[i], 0) for i < len(dst): +0 for negative
// values and both zeros, NaNs kept as they are, without branches.
func ReLU(dst, src []float32) { relu(dst, src[:len(dst)]) }

// ReLUGradAdd adds dy[i] to dx[i] wherever the ReLU output y[i] is > 0
// (not zero, negative zero or NaN), and +0 elsewhere, for i < len(dx).
func ReLUGradAdd(dx, dy, y []float32) { reluGrad(dx, dy[:len(dx)], y[:len(dx)], false) }

// ReLUGradInto writes into dx, whose contents it ignores, what
// ReLUGradAdd adds to a cleared dx: dy[i] + 0 where y[i] > 0, +0 elsewhere.
func ReLUGradInto(dx, dy, y []float32) { reluGrad(dx, dy[:len(dx)], y[:len(dx)], true) }

func reluGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		u := math.Float32bits(v)
		neg := uint32(int32(u) >> 31)                         // all ones when the sign bit is set
		nan := uint32(int32(0x7f800000-(u&0x7fffffff)) >> 31) // all ones for a NaN
		dst[i] = math.Float32frombits(u &^ (neg &^ nan))
	}
}

// reluGradGo adds dy[i] to dx[i] where y[i] is in (+0, +Inf] and +0
// elsewhere, or with into writes that plus +0.
func reluGradGo(dx, dy, y []float32, into bool) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	masked := func(i int) float32 {
		b := math.Float32bits(y[i])
		m := ^uint32(int32(b-1)>>31) & ^uint32(int32(0x7f800000-b)>>31) // y in (0, +Inf]
		return math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
	if into {
		for i := range dx {
			dx[i] = masked(i) + 0
		}
		return
	}
	for i := range dx {
		dx[i] += masked(i)
	}
}
