//go:build amd64 && !purego

package kernels

// This file routes the int8 product to the AVX-512 VNNI micro-kernel
// (int8_amd64.s, an 8x32 tile) and packs the weights for it in tiles of 8
// rows by 4 columns. It leaves out CPUs without AVX-512 VNNI, which run
// the Go loop.

import (
	"math"

	"golang.org/x/sys/cpu"
)

var hasVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL

// Tile sizes of int8TileVNNI (asm/int8.go).
const (
	int8MR = 8
	int8NR = 32
)

// packInt8 lays w's rows out as [M/8][K/4][8][4], zero-padded.
func packInt8(w *Int8Weights) {
	if !hasVNNI {
		return
	}
	k4 := (w.K + 3) / 4
	tiles := (w.M + int8MR - 1) / int8MR
	w.packed = make([]int8, tiles*k4*int8MR*4)
	for i := range w.M {
		t, r := i/int8MR, i%int8MR
		for p, v := range w.rows[i*w.K : (i+1)*w.K] {
			w.packed[(t*k4+p/4)*int8MR*4+r*4+p%4] = v
		}
	}
}

// int8Gemm computes columns j0 to j1 (j0 a multiple of 32) of the product.
func int8Gemm(w *Int8Weights, b *Int8Cols, j0, j1 int, c []int32, ldc int) {
	if w.packed == nil {
		int8GemmGo(w, b, j0, j1, c[j0:], ldc)
		return
	}
	k4 := (w.K + 3) / 4
	var tile [int8MR * int8NR]int32
	tiles := (w.M + int8MR - 1) / int8MR
	for jb := j0; jb < j1; jb += int8NR {
		cols := min(int8NR, j1-jb)
		for t := range tiles {
			int8TileVNNI(&w.packed[t*k4*int8MR*4], &b.data[jb*k4*4], &tile[0], k4, int8NR*4, int8NR*4)
			for r := 0; r < int8MR && t*int8MR+r < w.M; r++ {
				i := t*int8MR + r
				off := 128 * w.rowSum[i]
				dst := c[i*ldc+jb : i*ldc+jb+cols]
				for jj := range dst {
					dst[jj] = tile[r*int8NR+jj] - off
				}
			}
		}
	}
}

// int8GemmF32 computes columns j0 to j1 (j0 a multiple of 32) of the
// product with its epilogue.
func int8GemmF32(w *Int8Weights, b *Int8Cols, e Int8Epilogue, j0, j1 int, out []float32, ldo int) {
	if w.packed == nil {
		int8GemmF32Go(w, b, e, j0, j1, out, ldo)
		return
	}
	k4 := (w.K + 3) / 4
	tiles := (w.M + int8MR - 1) / int8MR
	lo := float32(math.Inf(-1))
	if e.ReLU {
		lo = 0
	}
	for jb := j0; jb < j1; jb += int8NR {
		cols := min(int8NR, j1-jb)
		m0, m1 := uint16(1<<min(cols, 16)-1), uint16(1<<max(cols-16, 0)-1)
		for t := range tiles {
			i := t * int8MR
			int8TileVNNIF32(&w.packed[t*k4*int8MR*4], &b.data[jb*k4*4], k4, &out[i*ldo+jb], ldo*4, min(int8MR, w.M-i), m0, m1,
				&w.offset[i], &e.Scale[i], &e.Bias[i], lo)
		}
	}
}

// int8GemmF32Pool computes groups g0 to g1 of the pooled product.
func int8GemmF32Pool(w *Int8Weights, b *Int8Cols, e Int8Epilogue, g0, g1, wins int, out []float32, ldo int) {
	if w.packed == nil {
		int8GemmF32PoolGo(w, b, e, g0, g1, wins, out, ldo)
		return
	}
	k4 := (w.K + 3) / 4
	tiles := (w.M + int8MR - 1) / int8MR
	lo := float32(math.Inf(-1))
	if e.ReLU {
		lo = 0
	}
	for g := g0; g < g1; g++ {
		m0 := uint16(1<<min(wins-g*8, 8) - 1)
		for t := range tiles {
			i := t * int8MR
			int8TileVNNIF32Pool(&w.packed[t*k4*int8MR*4], &b.data[g*32*k4*4], k4, &out[i*ldo+g*8], ldo*4, min(int8MR, w.M-i), m0, 0,
				&w.offset[i], &e.Scale[i], &e.Bias[i], lo)
		}
	}
}
