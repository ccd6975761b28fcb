//go:build !unix

package tune

// This file stands in for process liveness where there is no signal 0. It
// leaves out a real check: dead workers are found by heartbeat timeout.

// processAlive assumes every process is alive.
func processAlive(int) bool { return true }
