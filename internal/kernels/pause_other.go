//go:build !amd64 || purego

package kernels

// spinPause is the spin-wait hint; without assembly there is none.
func spinPause() {}
