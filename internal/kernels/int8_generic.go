//go:build !amd64 || purego

package kernels

// packInt8 has nothing to pack without the VNNI kernel.
func packInt8(*Int8Weights) {}

// int8Gemm is the pure-Go kernel where there is no assembly.
func int8Gemm(w *Int8Weights, b *Int8Cols, j0, j1 int, c []int32, ldc int) {
	int8GemmGo(w, b, j0, j1, c[j0:], ldc)
}

// int8GemmF32 is the pure-Go kernel where there is no assembly.
func int8GemmF32(w *Int8Weights, b *Int8Cols, e Int8Epilogue, j0, j1 int, out []float32, ldo int) {
	int8GemmF32Go(w, b, e, j0, j1, out, ldo)
}

// int8GemmF32Pool is the pure-Go kernel where there is no assembly.
func int8GemmF32Pool(w *Int8Weights, b *Int8Cols, e Int8Epilogue, g0, g1, wins int, out []float32, ldo int) {
	int8GemmF32PoolGo(w, b, e, g0, g1, wins, out, ldo)
}
