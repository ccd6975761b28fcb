package main

// This file generates the int8 matrix product's AVX-512 VNNI micro-kernel:
// an 8x32 tile of int32 sums (8 output channels by 32 pixels) over K in
// steps of four, VPDPBUSD multiplying unsigned activation bytes by signed
// weight bytes. The Go side packs both operands and removes the +128 that
// makes activations unsigned. avo v0.5.0 has no VPDPBUSD constructor, so
// the instruction is emitted through avo's IR with its inputs and outputs
// named for the register allocator. It leaves out AVX-VNNI (VEX, 256-bit).

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Tile sizes of the micro-kernel; internal/kernels/int8_amd64.go packs for
// these.
const (
	int8MR = 8  // output channels (weight rows)
	int8NR = 32 // pixels: two 16-lane vectors
)

// vpdpbusd emits acc += dot4(u8 b, s8 w) in each 32-bit lane (Go operand
// order: the signed source, the unsigned source, the accumulator).
func vpdpbusd(w, b, acc Op) {
	Instruction(&ir.Instruction{Opcode: "VPDPBUSD", Operands: []Op{w, b, acc}, Inputs: []Op{w, b, acc}, Outputs: []Op{acc},
		ISA: []string{"AVX512_VNNI"}})
}

func genInt8() {
	TEXT("int8TileVNNI", NOSPLIT, "func(a *int8, b *uint8, c *int32, k4, bstride, ldc int)")
	Pragma("noescape")
	Doc("int8TileVNNI writes the 8x32 int32 tile c[r*ldc/4+j] = sum over k of",
		"a[k4][r][4] * b[k4][j][4]: a is 8 packed weight rows (32 bytes per step",
		"of four k), b holds 32 pixels' unsigned bytes per step, bstride bytes",
		"apart; ldc is c's row stride in bytes.")
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	c := Load(Param("c"), GP64())
	k4 := Load(Param("k4"), GP64())
	bs := Load(Param("bstride"), GP64())
	ldc := Load(Param("ldc"), GP64())
	var acc [int8MR][2]VecVirtual
	for r := range acc {
		for v := range acc[r] {
			acc[r][v] = ZMM()
			VPXORD(acc[r][v], acc[r][v], acc[r][v])
		}
	}
	Label("int8_loop")
	TESTQ(k4, k4)
	JZ(LabelRef("int8_done"))
	b0, b1 := ZMM(), ZMM()
	VMOVDQU32(Mem{Base: b}, b0)
	VMOVDQU32(Mem{Base: b, Disp: 64}, b1)
	for r := range acc {
		w := ZMM()
		VPBROADCASTD(Mem{Base: a, Disp: 4 * r}, w)
		vpdpbusd(w, b0, acc[r][0])
		vpdpbusd(w, b1, acc[r][1])
	}
	ADDQ(U8(4*int8MR), a)
	ADDQ(bs, b)
	DECQ(k4)
	JMP(LabelRef("int8_loop"))
	Label("int8_done")
	for r := range acc {
		VMOVDQU32(acc[r][0], Mem{Base: c})
		VMOVDQU32(acc[r][1], Mem{Base: c, Disp: 64})
		ADDQ(ldc, c)
	}
	VZEROUPPER()
	RET()
}
