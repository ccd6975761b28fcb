//go:build !amd64 || purego

package kernels

// int8GemmNT is the pure-Go kernel where there is no assembly.
func int8GemmNT(m, j0, j1, k int, a, b []int8, c []int32, ldc int) {
	int8GemmNTGo(m, j0, j1, k, a, b, c, ldc)
}
