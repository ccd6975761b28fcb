package kernels

import "time"

// PeakGFLOPS measures this core's FP32 fused multiply-add throughput with a
// register-only loop of the widest FMA the CPU runs (the loop the GEMM
// micro-kernel is built from), best of several short runs. It is the
// denominator of "percent of peak" in kiln bench; it returns 0 where no
// assembly loop exists (the pure-Go build).
func PeakGFLOPS() float64 {
	loops := fmaPeakLoops()
	if len(loops) == 0 {
		return 0
	}
	return measurePeak(loops[0]) // widest first
}

// PeakByWidth measures the FMA throughput of each vector width the CPU
// runs, in GFLOPS keyed by name ("avx512" for 512-bit zmm, "avx2" for
// 256-bit ymm). Their ratio tells how wide the FMA units really are: a CPU
// that splits 512-bit FMAs into two 256-bit halves (Zen 4) runs zmm at
// about the ymm rate; one with full-width units (Zen 5) at about twice it.
// The widest is what PeakGFLOPS measures.
func PeakByWidth() map[string]float64 {
	out := map[string]float64{}
	for _, p := range fmaPeakLoops() {
		out[p.name] = measurePeak(p)
	}
	return out
}

// measurePeak times loop p, best of several short runs, in GFLOPS.
func measurePeak(p peakLoop) float64 {
	const trips = 1 << 14
	best := time.Duration(1 << 62)
	for range 30 {
		t := time.Now()
		p.fn(trips)
		best = min(best, time.Since(t))
	}
	return float64(p.flopsPerTrip) * trips / best.Seconds() / 1e9
}
