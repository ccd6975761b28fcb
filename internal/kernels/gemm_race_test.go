//go:build race

package kernels

// raceEnabled is set under -race, where sync.Pool drops items on purpose and
// allocation counts mean nothing.
const raceEnabled = true
