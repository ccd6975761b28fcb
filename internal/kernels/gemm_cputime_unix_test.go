//go:build unix

package kernels

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time this process has used. On a
// shared machine it is a steadier clock for single-threaded benchmarks than
// wall time, which also counts the time other processes held the core.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
