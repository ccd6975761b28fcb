//go:build race

package autograd_test

// unsupRace reports a -race build, under which sync.Pool drops objects and
// the kernels' pooled buffers allocate.
const unsupRace = true
