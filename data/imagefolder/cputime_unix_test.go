//go:build unix

package imagefolder

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time so far, so a benchmark can
// report cost per image that does not depend on how busy the machine is.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
