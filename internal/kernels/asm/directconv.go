package main

// This file generates the direct convolution kernel: a stride-1
// convolution whose output rows are read as vectors straight from the
// input, with no column matrix and no packed B panel. It is the 8x32 GEMM
// tile (gemm.go) with B's rows replaced by input rows shifted by each
// tap's offset, so each output is the same chain of FMAs over the taps in
// the same order as the GEMM's, and gets the same bits. It leaves out
// choosing when it pays and the padding (the Go driver's).

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// directChannels is how many output channels one call computes: the
// GEMM tile's 8 rows.
const directChannels = 8

// directUnroll is how many taps one trip of the tap loop takes.
const directUnroll = 3

// tile8x32 is the registers of the 8x32 tile both kernels share: 16
// accumulators, two vectors of the operand loaded whole, and two
// broadcast registers that alternate so consecutive rows do not wait on
// one register.
type tile8x32 struct{ g gemmKernel }

func (t tile8x32) acc(i, v int) VecPhysical { return t.g.vec(2*i + v) }
func (t tile8x32) vec(v int) VecPhysical    { return t.g.vec(2*directChannels + v) }
func (t tile8x32) bcast(i int) VecPhysical  { return t.g.vec(2*directChannels + 2 + i%2) }

// zero clears the accumulators.
func (t tile8x32) zero() {
	for i := 0; i < directChannels; i++ {
		for v := 0; v < 2; v++ {
			VPXORD(t.acc(i, v), t.acc(i, v), t.acc(i, v))
		}
	}
}

// step is one k step: row i's element, broadcast from at(i), times the
// two loaded vectors, into row i's accumulators.
func (t tile8x32) step(at func(i int) Mem) {
	for i := 0; i < directChannels; i++ {
		VBROADCASTSS(at(i), t.bcast(i))
		for v := 0; v < 2; v++ {
			VFMADD231PS(t.vec(v), t.bcast(i), t.acc(i, v))
		}
	}
}

// eachRow emits body for rows 0-7 of the tile, row i's memory at ptr
// advanced by i*ld bytes, stopping before row i once rows <= i (a jump to
// label done).
func (t tile8x32) eachRow(rows, ptr, ld Register, done string, body func(i int)) {
	for i := 0; i < directChannels; i++ {
		if i > 0 {
			CMPQ(rows, U8(i))
			JLE(LabelRef(done))
			ADDQ(ld, ptr)
		}
		body(i)
	}
}

func genDirectConv() {
	const name = "directConvAVX512"
	TEXT(name, NOSPLIT, "func(x *float32, offs *int32, k int, w, y *float32, rows, xrow, yrow, ldy, nch int, m0, m1 uint16, bias *float32, epilogue uint8)")
	Pragma("noescape")
	Doc(name+" computes rows output rows of up to 8 channels of a stride-1 convolution,",
		"32 outputs a row at most: output (i, r, j) at y[i*ldy + r*yrow + j] is the sum over",
		"taps t < k, in order, of w[t*8+i] * x[offs[t] + r*xrow + j], one FMA chain from zero.",
		"Lanes j < 16 take mask m0 and j >= 16 mask m1, for loads and stores alike; channels",
		"i >= nch are not stored. Strides and offsets are in elements. With epilogue bit 0",
		"set, bias[i] (8 readable values) is added to each sum, and with bit 1 as well the",
		"result is max(sum+bias, 0) as biasEpilogueAVX512 computes it.")

	xp := Load(Param("x"), GP64())
	yp := Load(Param("y"), GP64())
	rows := Load(Param("rows"), GP64())
	xrow := Load(Param("xrow"), GP64())
	SHLQ(U8(2), xrow)
	yrow := Load(Param("yrow"), GP64())
	SHLQ(U8(2), yrow)
	ldy := Load(Param("ldy"), GP64())
	SHLQ(U8(2), ldy)
	nch := Load(Param("nch"), GP64())
	k0, k1 := K(), K()
	KMOVW(Load(Param("m0"), GP32()), k0)
	KMOVW(Load(Param("m1"), GP32()), k1)

	bp := Load(Param("bias"), GP64())
	epi := Load(Param("epilogue"), GP8())
	kr := K()

	t := tile8x32{gemmKernel{wide: true}}
	op, wp, taps, off, out := GP64(), GP64(), GP64(), GP64(), GP64()

	Label(name + "_row")
	TESTQ(rows, rows)
	JZ(LabelRef(name + "_done"))
	t.zero()
	Load(Param("offs"), op)
	Load(Param("w"), wp)
	Load(Param("k"), taps)

	// Taps in trips of directUnroll, then one at a time.
	tap := func(u int) {
		MOVLQSX(Mem{Base: op, Disp: 4 * u}, off)
		VMOVUPS_Z(Mem{Base: xp, Index: off, Scale: 4}, k0, t.vec(0))
		VMOVUPS_Z(Mem{Base: xp, Index: off, Scale: 4, Disp: 64}, k1, t.vec(1))
		t.step(func(i int) Mem { return Mem{Base: wp, Disp: 4 * (u*directChannels + i)} })
	}
	CMPQ(taps, U8(directUnroll))
	JL(LabelRef(name + "_tail"))
	Label(name + "_trip")
	for u := 0; u < directUnroll; u++ {
		tap(u)
	}
	ADDQ(U8(4*directUnroll), op)
	ADDQ(U32(4*directChannels*directUnroll), wp)
	SUBQ(U8(directUnroll), taps)
	CMPQ(taps, U8(directUnroll))
	JGE(LabelRef(name + "_trip"))
	Label(name + "_tail")
	TESTQ(taps, taps)
	JZ(LabelRef(name + "_store"))
	tap(0)
	ADDQ(U8(4), op)
	ADDQ(U8(4*directChannels), wp)
	DECQ(taps)
	JMP(LabelRef(name + "_tail"))

	Label(name + "_store")
	// The epilogue: bias, then the ReLU, per biasEpilogueAVX512's rules.
	TESTB(U8(1), epi)
	JZ(LabelRef(name + "_write"))
	for i := 0; i < directChannels; i++ {
		VBROADCASTSS(Mem{Base: bp, Disp: 4 * i}, t.bcast(i))
		for v := 0; v < 2; v++ {
			VADDPS(t.bcast(i), t.acc(i, v), t.acc(i, v))
		}
	}
	TESTB(U8(2), epi)
	JZ(LabelRef(name + "_write"))
	zero := t.vec(0)
	VXORPS(zero, zero, zero)
	for i := 0; i < directChannels; i++ {
		for v := 0; v < 2; v++ {
			VCMPPS(U8(cmpNLEUQ), zero, t.acc(i, v), kr)
			VMOVUPS_Z(t.acc(i, v), kr, t.acc(i, v))
		}
	}
	Label(name + "_write")
	MOVQ(yp, out)
	t.eachRow(nch, out, ldy, name+"_next", func(i int) {
		VMOVUPS(t.acc(i, 0), k0, Mem{Base: out})
		VMOVUPS(t.acc(i, 1), k1, Mem{Base: out, Disp: 64})
	})
	Label(name + "_next")
	ADDQ(xrow, xp)
	ADDQ(yrow, yp)
	DECQ(rows)
	JMP(LabelRef(name + "_row"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genDirectA emits the GEMM micro-kernel whose A panel is not packed but
// read from a convolution's images: the 8x32 tile of a column matrix's
// rows (8 taps) times a packed B panel, for the weight gradient, where A
// is the column matrix. Its FMAs are the packed kernel's in the same
// order, so a product computed either way gets the same bits.
func genDirectA(name string, step int) {
	TEXT(name, NOSPLIT, "func(x *float32, offs, segs *int32, nseg int, b *float32, ldb int, c *float32, ldc, rows int, m0, m1 uint16, beta float32)")
	Pragma("noescape")
	Doc(name+" computes the 8x32 tile C = A*B (beta == 0, C not read) or A*B + C",
		"(beta != 0) where A's row i at column q is x[offs[i] + s_q], B's row q starts at",
		"b+q*ldb, and the columns q run over segments: segment s is segs[2s+1] columns with",
		fmt.Sprintf("s_q = segs[2s], segs[2s]+%d, .... Only rows i < rows and the lanes of masks m0", step),
		"(columns 0-15) and m1 (16-31) of C are read and written. Strides are in elements.")

	t := tile8x32{gemmKernel{wide: true}}
	xbase := Load(Param("x"), GP64())
	op := Load(Param("offs"), GP64())
	offs := make([]GPVirtual, directChannels)
	for i := range offs {
		offs[i] = GP64()
		MOVLQSX(Mem{Base: op, Disp: 4 * i}, offs[i])
	}
	sp := Load(Param("segs"), GP64())
	nseg := Load(Param("nseg"), GP64())
	bp := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	xp, n := GP64(), GP64()
	t.zero()

	Label(name + "_seg")
	TESTQ(nseg, nseg)
	JZ(LabelRef(name + "_store"))
	MOVLQSX(Mem{Base: sp}, xp)
	LEAQ(Mem{Base: xbase, Index: xp, Scale: 4}, xp)
	MOVLQSX(Mem{Base: sp, Disp: 4}, n)
	Label(name + "_col")
	for v := 0; v < 2; v++ {
		VMOVUPS(Mem{Base: bp, Disp: 64 * v}, t.vec(v))
	}
	t.step(func(i int) Mem { return Mem{Base: xp, Index: offs[i], Scale: 4} })
	ADDQ(U8(4*step), xp)
	ADDQ(ldb, bp)
	DECQ(n)
	JNZ(LabelRef(name + "_col"))
	ADDQ(U8(8), sp)
	DECQ(nseg)
	JMP(LabelRef(name + "_seg"))

	Label(name + "_store")
	cp := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	rows := Load(Param("rows"), GP64())
	k0, k1 := K(), K()
	KMOVW(Load(Param("m0"), GP32()), k0)
	KMOVW(Load(Param("m1"), GP32()), k1)
	ks := []Op{k0, k1}
	bbits := GP32()
	MOVL(paramAddr("beta"), bbits)
	ANDL(U32(0x7fffffff), bbits)
	JZ(LabelRef(name + "_overwrite"))
	t.eachRow(rows, cp, ldc, name+"_done", func(i int) {
		for v := 0; v < 2; v++ {
			m := Mem{Base: cp, Disp: 64 * v}
			VMOVUPS_Z(m, ks[v], t.vec(v))
			VADDPS(t.vec(v), t.acc(i, v), t.acc(i, v))
			VMOVUPS(t.acc(i, v), ks[v], m)
		}
	})
	JMP(LabelRef(name + "_done"))
	Label(name + "_overwrite")
	t.eachRow(rows, cp, ldc, name+"_done", func(i int) {
		for v := 0; v < 2; v++ {
			VMOVUPS(t.acc(i, v), ks[v], Mem{Base: cp, Disp: 64 * v})
		}
	})
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
