//go:build !race

package autograd_test

const unsupRace = false
