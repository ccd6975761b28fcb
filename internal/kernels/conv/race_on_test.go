//go:build race

package conv

// raceEnabled skips allocation counts under the race detector, whose
// sync.Pool deliberately drops objects (kernels.Sgemm pools its buffers).
const raceEnabled = true
