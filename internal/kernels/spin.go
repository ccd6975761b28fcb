package kernels

// This file is how the package's worker goroutines wait for work. It
// leaves out the pools themselves (gemm_threads.go, ranges.go and the
// convolutions' in package conv).

import (
	"runtime"
	"time"
)

// spinFor is how long a worker keeps looking for its next job before it
// sleeps. A training step hands its workers a job every few hundred
// microseconds, and on the 2-vCPU Zen 5 a sleeping worker started 130 us
// after it was handed one on average (its vCPU had halted, and the
// hypervisor must run it again): one core idle for 14% of the seed CNN's
// step (docs/PERFORMANCE.md). OpenMP runtimes spin the same way before
// they block (KMP_BLOCKTIME, GOMP_SPINCOUNT).
const spinFor = 2 * time.Millisecond

// Receive takes the next value from ch, trying for up to spinFor before it
// blocks. It yields the processor between tries, so that goroutines with
// work to do (a data loader's decoders, another pool's workers) run
// meanwhile instead of waiting for the spin to end.
func Receive[T any](ch <-chan T) T {
	var start time.Time
	for i := 0; ; i++ {
		select {
		case v := <-ch:
			return v
		default:
		}
		if i&63 == 0 {
			if i == 0 {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				return <-ch
			}
		}
		runtime.Gosched()
	}
}
