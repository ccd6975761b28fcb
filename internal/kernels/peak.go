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
	p := loops[0] // widest first
	const trips = 1 << 14
	best := time.Duration(1 << 62)
	for range 30 {
		t := time.Now()
		p.fn(trips)
		best = min(best, time.Since(t))
	}
	return float64(p.flopsPerTrip) * trips / best.Seconds() / 1e9
}
