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
	genInt8Tile()
	genInt8F32(false)
	genInt8F32(true)
}

func genInt8Tile() {
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
	acc := int8Accumulate(a, b, k4, bs, "int8_loop", "int8_done")
	Label("int8_done")
	for r := range acc {
		VMOVDQU32(acc[r][0], Mem{Base: c})
		VMOVDQU32(acc[r][1], Mem{Base: c, Disp: 64})
		ADDQ(ldc, c)
	}
	VZEROUPPER()
	RET()
}

// int8Accumulate emits the tile's sums: zeroed accumulators, then k4
// steps (looping at label loop, leaving for label done) that each add 8
// broadcast weight rows times 32 pixels' four bytes, a moving 4*int8MR
// bytes and b moving bstep (a register or an immediate). It returns the
// accumulators, two ZMM registers of 16 int32 a row.
func int8Accumulate(a, b, k4 Register, bstep Op, loop, done string) [int8MR][2]VecVirtual {
	var acc [int8MR][2]VecVirtual
	for r := range acc {
		for v := range acc[r] {
			acc[r][v] = ZMM()
			VPXORD(acc[r][v], acc[r][v], acc[r][v])
		}
	}
	Label(loop)
	TESTQ(k4, k4)
	JZ(LabelRef(done))
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
	ADDQ(bstep, b)
	DECQ(k4)
	JMP(LabelRef(loop))
	return acc
}

// genInt8F32 emits the same tile with its epilogue: each row's sums less
// the activations' offset (offs[r]), converted to float32, times scale[r]
// plus bias[r] (two roundings, as Go's float32 arithmetic), then max(.,
// lo) (0 for ReLU, -Inf for none), stored under the column masks m0 and m1
// into rows of out ldo bytes apart; rows past the count are left alone.
// With pool, the 32 columns are the four taps of 8 pooling windows
// (columns w, 8+w, 16+w, 24+w) and the tile stores each window's maximum.
func genInt8F32(pool bool) {
	name, label := "int8TileVNNIF32", "f32"
	if pool {
		name, label = "int8TileVNNIF32Pool", "pool"
	}
	TEXT(name, NOSPLIT, "func(a *int8, b *uint8, k4 int, out *float32, ldo, rows int, m0, m1 uint16, offs *int32, scale, bias *float32, lo float32)")
	Pragma("noescape")
	if pool {
		Doc("int8TileVNNIF32Pool is int8TileVNNIF32 followed by the maximum of the",
			"tile's four groups of 8 columns (the taps of 8 pooling windows): 8",
			"values a row, stored under the mask m0.")
	} else {
		Doc("int8TileVNNIF32 is int8TileVNNI with the float32 epilogue of Int8GemmF32.")
	}
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	k4 := Load(Param("k4"), GP64())
	acc := int8Accumulate(a, b, k4, U32(int8NR*4), label+"_loop", label+"_epilogue")

	Label(label + "_epilogue")
	out := Load(Param("out"), GP64())
	ldo := Load(Param("ldo"), GP64())
	rows := Load(Param("rows"), GP64())
	offs := Load(Param("offs"), GP64())
	scale := Load(Param("scale"), GP64())
	bias := Load(Param("bias"), GP64())
	k0, k1 := K(), K()
	KMOVW(Load(Param("m0"), GP32()), k0)
	KMOVW(Load(Param("m1"), GP32()), k1)
	lo := ZMM()
	VBROADCASTSS(paramAddr("lo"), lo)
	masks := [2]Op{k0, k1}
	for r := range acc {
		CMPQ(rows, U8(r))
		JLE(LabelRef(label + "_done"))
		off, sc, bi := ZMM(), ZMM(), ZMM()
		VPBROADCASTD(Mem{Base: offs, Disp: 4 * r}, off)
		VBROADCASTSS(Mem{Base: scale, Disp: 4 * r}, sc)
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * r}, bi)
		for _, z := range acc[r] {
			VPSUBD(off, z, z)
			VCVTDQ2PS(z, z)
			VMULPS(sc, z, z)
			VADDPS(bi, z, z)
			VMAXPS(lo, z, z)
		}
		if pool {
			z0, z1, hi := acc[r][0], acc[r][1], YMM()
			VMAXPS(z1, z0, z0)             // columns 0-15: taps 0 and 2, 1 and 3
			VEXTRACTF32X8(U8(1), z0, hi)   // taps 1 and 3
			VMAXPS(hi, z0.AsY(), z0.AsY()) // all four taps of 8 windows
			VMOVUPS(z0.AsY(), k0, Mem{Base: out})
		} else {
			for v, z := range acc[r] {
				VMOVUPS(z, masks[v], Mem{Base: out, Disp: 64 * v})
			}
		}
		ADDQ(ldo, out)
	}
	Label(label + "_done")
	VZEROUPPER()
	RET()
}
