package tensor

import (
	"math/rand/v2"
	"testing"
)

// This file holds the benchmarks; speed claims about the package come from
// here, not from the unit tests.

func benchTensor(seed uint64, shape ...int) *Tensor {
	return New(shape...).Normal(rand.New(rand.NewPCG(seed, 0)), 0, 1)
}

func BenchmarkAdd(b *testing.B) {
	x := benchTensor(1, 32, 64, 10, 10)
	tests := []struct {
		name string
		y    *Tensor
	}{
		{"contiguous", benchTensor(2, 32, 64, 10, 10)},
		{"bias", benchTensor(3, 1, 64, 1, 1)},
		{"transposed", benchTensor(4, 32, 64, 10, 10).Transpose(2, 3)},
	}
	dst := New(32, 64, 10, 10)
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(4 * dst.Len()))
			b.ReportAllocs()
			for b.Loop() {
				Add(dst, x, tc.y)
			}
		})
	}
}

func BenchmarkSum(b *testing.B) {
	x := benchTensor(5, 256, 512)
	for _, tc := range []struct {
		name string
		axis int
		dst  *Tensor
	}{
		{"axis0", 0, New(512)},
		{"lastAxis", -1, New(256)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(4 * x.Len()))
			b.ReportAllocs()
			for b.Loop() {
				Sum(tc.dst, x, tc.axis, false)
			}
		})
	}
}

func BenchmarkSumToBias(b *testing.B) {
	g := benchTensor(6, 32, 64, 10, 10)
	bias := New(1, 64, 1, 1)
	b.SetBytes(int64(4 * g.Len()))
	b.ReportAllocs()
	for b.Loop() {
		SumTo(bias, g)
	}
}

func BenchmarkMatMul128(b *testing.B) {
	x, y := benchTensor(7, 128, 128), benchTensor(8, 128, 128)
	dst := New(128, 128)
	for _, tc := range []struct {
		name string
		y    *Tensor
	}{
		{"NN", y},
		{"NT", y.T()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatMul(dst, x, tc.y)
			}
			b.ReportMetric(2*128*128*128*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkSoftmax(b *testing.B) {
	x := benchTensor(9, 256, 1000)
	dst := New(256, 1000)
	b.SetBytes(int64(4 * x.Len()))
	b.ReportAllocs()
	for b.Loop() {
		Softmax(dst, x, -1)
	}
}
