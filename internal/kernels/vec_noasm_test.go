//go:build !amd64 || purego

package kernels

// vecImpls lists the vector kernels this build runs: the Go loops.
func vecImpls() []vecImpl { return []vecImpl{goVec} }
