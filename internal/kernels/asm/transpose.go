package main

// This file generates the 8x8 block transpose the packing code uses to turn
// rows of A, or rows of a transposed B, into the k-major panels the
// micro-kernels read. It leaves out partial blocks: Go packs those.

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func genTranspose() {
	TEXT("transpose8x8AVX", NOSPLIT, "func(n int, src *float32, lds int, dst *float32, ldd int)")
	Pragma("noescape")
	Doc("transpose8x8AVX transposes n blocks of 8x8: block q takes columns 8q..8q+7 of the 8 rows",
		"at src+r*lds and writes them as rows 8q..8q+7 at dst+row*ldd. Strides are in elements.")
	n := Load(Param("n"), GP64())
	s0 := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	d0 := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), lds)
	SHLQ(U8(2), ldd)
	lds3, ldd3 := GP64(), GP64()
	LEAQ(Mem{Base: lds, Index: lds, Scale: 2}, lds3)
	LEAQ(Mem{Base: ldd, Index: ldd, Scale: 2}, ldd3)
	s4 := GP64()
	LEAQ(Mem{Base: s0, Index: lds, Scale: 4}, s4)

	// rows returns the 4 addresses base, +ld, +2ld, +3ld.
	rows := func(base, ld, ld3 Register) []Mem {
		return []Mem{{Base: base}, {Base: base, Index: ld, Scale: 1},
			{Base: base, Index: ld, Scale: 2}, {Base: base, Index: ld3, Scale: 1}}
	}
	r := []Register{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	t := []Register{Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

	Label("transpose_loop")
	TESTQ(n, n)
	JZ(LabelRef("transpose_done"))
	src := append(rows(s0, lds, lds3), rows(s4, lds, lds3)...)
	for i := 0; i < 8; i++ {
		VMOVUPS(src[i], r[i])
	}
	// Interleave pairs of rows, then pairs of pairs, within 128-bit lanes.
	for i := 0; i < 8; i += 2 {
		VUNPCKLPS(r[i+1], r[i], t[i])
		VUNPCKHPS(r[i+1], r[i], t[i+1])
	}
	for i := 0; i < 8; i += 4 {
		VSHUFPS(U8(0x44), t[i+2], t[i], r[i])
		VSHUFPS(U8(0xEE), t[i+2], t[i], r[i+1])
		VSHUFPS(U8(0x44), t[i+3], t[i+1], r[i+2])
		VSHUFPS(U8(0xEE), t[i+3], t[i+1], r[i+3])
	}
	// Swap 128-bit lanes between the two halves.
	for i := 0; i < 4; i++ {
		VPERM2F128(U8(0x20), r[i+4], r[i], t[i])
		VPERM2F128(U8(0x31), r[i+4], r[i], t[i+4])
	}
	d4 := GP64()
	LEAQ(Mem{Base: d0, Index: ldd, Scale: 4}, d4)
	dst := append(rows(d0, ldd, ldd3), rows(d4, ldd, ldd3)...)
	for i := 0; i < 8; i++ {
		VMOVUPS(t[i], dst[i])
	}
	ADDQ(U8(32), s0)
	ADDQ(U8(32), s4)
	LEAQ(Mem{Base: d0, Index: ldd, Scale: 8}, d0)
	DECQ(n)
	JMP(LabelRef("transpose_loop"))

	Label("transpose_done")
	VZEROUPPER()
	RET()
}
