package kernels

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchGemm times C = A*op(B) with kernel kn on the given threads and
// reports GFLOPS (2*m*n*k per call).
func benchGemm(b *testing.B, kn *microKernel, threads int, transB bool, m, n, k int) {
	rng := rand.New(rand.NewPCG(7, 0))
	a := randSlice(rng, m*k)
	bm := randSlice(rng, k*n)
	c := make([]float32, m*n)
	ldb := n
	if transB {
		ldb = k
	}
	g := gemmArgs{false, transB, m, n, k, 1, a, k, bm, ldb, 0, c, n}
	sgemmParallel(kn, threads, &g)
	b.ResetTimer()
	cpu0 := processCPUTime()
	for range b.N {
		sgemmParallel(kn, threads, &g)
	}
	reportFlops(b, 2*float64(m)*float64(n)*float64(k)*float64(b.N), cpu0)
}

// reportFlops reports GFLOPS over wall time and, where the process CPU time
// is known, GFLOPS per CPU-second ("GFLOPS/cpu"): on a machine shared with
// other work that second number is what one core delivers while it runs.
func reportFlops(b *testing.B, flops float64, cpu0 time.Duration) {
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOPS/cpu")
	}
}

// BenchmarkSgemm512 is the headline number: 512^3 on one thread with the
// kernel this CPU picks.
func BenchmarkSgemm512(b *testing.B) {
	benchGemm(b, activeKernel, 1, false, 512, 512, 512)
}

// BenchmarkSgemm512Threads is the same product on Threads() goroutines.
func BenchmarkSgemm512Threads(b *testing.B) {
	benchGemm(b, activeKernel, Threads(), false, 512, 512, 512)
}

// BenchmarkSgemmKernel512 compares every kernel this CPU runs at 512^3 on
// one thread.
func BenchmarkSgemmKernel512(b *testing.B) {
	for _, kn := range availableKernels() {
		b.Run(kn.name, func(b *testing.B) { benchGemm(b, kn, 1, false, 512, 512, 512) })
	}
}

// BenchmarkSgemmCNN times the seed CNN's layers as the engine runs them:
// convolutions as im2col GEMMs on a batch of 32 (out-channels x
// patch x positions) and the linear layer as activations x weights^T.
func BenchmarkSgemmCNN(b *testing.B) {
	shapes := []struct {
		name    string
		transB  bool
		m, n, k int
	}{
		{"conv1_32x25088x75", false, 32, 28 * 28 * 32, 75},
		{"conv2_64x3200x800", false, 64, 10 * 10 * 32, 800},
		{"linear_32x128x1600", true, 32, 128, 1600},
	}
	for _, s := range shapes {
		for _, th := range []struct {
			name    string
			threads int
		}{{"1thread", 1}, {"threads", Threads()}} {
			b.Run(s.name+"/"+th.name, func(b *testing.B) {
				benchGemm(b, activeKernel, th.threads, s.transB, s.m, s.n, s.k)
			})
		}
	}
}

// BenchmarkFMAPeak measures one core's FP32 FMA peak with register-only FMA
// chains, the yardstick for the GEMM numbers (GFLOPS counts 2 per lane).
func BenchmarkFMAPeak(b *testing.B) {
	const trips = 1 << 16
	for _, p := range fmaPeakLoops() {
		b.Run(p.name, func(b *testing.B) {
			cpu0 := processCPUTime()
			for range b.N {
				p.fn(trips)
			}
			reportFlops(b, float64(p.flopsPerTrip)*trips*float64(b.N), cpu0)
		})
	}
}
