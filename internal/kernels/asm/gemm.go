package main

// This file generates the SGEMM micro-kernels (and the register-only FMA
// loops that measure the peak they are judged against). Each kernel
// multiplies a packed mr x k panel of A by a k x nr panel of B, packed or
// read in place with row stride ldb, and writes the mr x nr tile into
// row-major C. It leaves out edge tiles: the Go driver packs with zero
// padding and lets a full kernel write into a scratch tile instead.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemmKernel describes one register tile.
type gemmKernel struct {
	name   string
	mr     int  // rows of the tile: broadcast elements of A
	nv     int  // vectors per row: nr = nv * lanes
	wide   bool // zmm (16 lanes, AVX-512) instead of ymm (8 lanes, AVX2)
	unroll int  // k steps per loop trip
}

func (g gemmKernel) lanes() int {
	if g.wide {
		return 16
	}
	return 8
}

func (g gemmKernel) nr() int { return g.nv * g.lanes() }

// vec returns the i-th physical vector register of the kernel's width.
func (g gemmKernel) vec(i int) VecPhysical {
	if g.wide {
		return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
			Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
	}
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

func genGemm() {
	kernels := []gemmKernel{
		// 8x32 beat 14x32, 12x32, 10x32, 8x48 and 6x64 on Zen 5 for 512^3
		// and the CNN shapes, and 8 divides the usual channel counts.
		{name: "sgemmKernelAVX512", mr: 8, nv: 2, wide: true, unroll: 4},
		// 6x16 fills the 16 ymm registers and runs at the AVX2 FMA peak.
		{name: "sgemmKernelAVX2", mr: 6, nv: 2, wide: false, unroll: 4},
	}
	for _, g := range kernels {
		g.generate()
	}
	genTranspose()
	genDirectConv()
	genDirectA("sgemmDirectAAVX512", 1)
	genDirectA("sgemmDirectAStride2AVX512", 2)
	genPeak("fmaPeakAVX512", true)
	genPeak("fmaPeakAVX2", false)
}

func (g gemmKernel) generate() {
	nregs := 16
	if g.wide {
		nregs = 32
	}
	// Accumulators, then nv B vectors, then two broadcast registers that
	// alternate so consecutive rows do not wait on one register.
	if g.mr*g.nv+g.nv+2 > nregs {
		panic(fmt.Sprintf("%s: %dx%d vectors do not fit in %d registers", g.name, g.mr, g.nv, nregs))
	}
	acc := func(i, v int) VecPhysical { return g.vec(i*g.nv + v) }
	bvec := func(v int) VecPhysical { return g.vec(g.mr*g.nv + v) }
	bcast := func(i int) VecPhysical { return g.vec(g.mr*g.nv + g.nv + i%2) }
	vbytes := 4 * g.lanes()

	if g.unroll > 4 {
		panic(g.name + ": B addressing covers at most 4 k steps per trip")
	}
	TEXT(g.name, NOSPLIT, "func(k int, a, b, c *float32, ldb, ldc int, alpha, beta float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes the %dx%d tile C = alpha*A*B + beta*C from packed panels "+
		"(beta == 0 does not read C). Row p of the B panel starts at b+p*ldb; "+
		"ldb and ldc are in elements.", g.name, g.mr, g.nr()))

	kr := Load(Param("k"), GP64())
	ap := Load(Param("a"), GP64())
	bp := Load(Param("b"), GP64())
	cp := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)

	Comment("Zero the accumulators.")
	for i := 0; i < g.mr; i++ {
		for v := 0; v < g.nv; v++ {
			r := acc(i, v)
			if g.wide {
				VPXORD(r, r, r)
			} else {
				VXORPS(r, r, r)
			}
		}
	}

	Comment("Warm the C tile while the k loop runs.")
	pc := GP64()
	MOVQ(cp, pc)
	for i := 0; i < g.mr; i++ {
		PREFETCHT0(Mem{Base: pc})
		PREFETCHT0(Mem{Base: pc, Disp: 4*g.nr() - 4})
		if i < g.mr-1 {
			ADDQ(ldc, pc)
		}
	}

	step := func(u int) {
		a := Mem{Base: ap, Disp: 4 * u * g.mr}
		// Rows 0-3 of B sit at bp, bp+ldb, bp+2*ldb and bp+3*ldb.
		b := []Mem{{Base: bp}, {Base: bp, Index: ldb, Scale: 1},
			{Base: bp, Index: ldb, Scale: 2}, {Base: bp, Index: ldb3, Scale: 1}}[u]
		for v := 0; v < g.nv; v++ {
			VMOVUPS(b.Offset(v*vbytes), bvec(v))
		}
		for i := 0; i < g.mr; i++ {
			VBROADCASTSS(a.Offset(4*i), bcast(i))
			for v := 0; v < g.nv; v++ {
				VFMADD231PS(bvec(v), bcast(i), acc(i, v))
			}
		}
	}

	Comment("Main loop: unrolled k steps.")
	Label(g.name + "_loop")
	CMPQ(kr, U8(g.unroll))
	JL(LabelRef(g.name + "_tail"))
	for u := 0; u < g.unroll; u++ {
		step(u)
	}
	ADDQ(U32(4*g.unroll*g.mr), ap)
	if g.unroll == 4 {
		LEAQ(Mem{Base: bp, Index: ldb, Scale: 4}, bp)
	} else {
		for u := 0; u < g.unroll; u++ {
			ADDQ(ldb, bp)
		}
	}
	SUBQ(U8(g.unroll), kr)
	JMP(LabelRef(g.name + "_loop"))

	Label(g.name + "_tail")
	TESTQ(kr, kr)
	JZ(LabelRef(g.name + "_store"))
	step(0)
	ADDQ(U32(4*g.mr), ap)
	ADDQ(ldb, bp)
	DECQ(kr)
	JMP(LabelRef(g.name + "_tail"))

	Label(g.name + "_store")
	Comment("Scale by alpha.")
	alpha := bvec(0)
	VBROADCASTSS(paramAddr("alpha"), alpha)
	for i := 0; i < g.mr; i++ {
		for v := 0; v < g.nv; v++ {
			VMULPS(alpha, acc(i, v), acc(i, v))
		}
	}
	Comment("beta == +0 or -0 must not read C: it may hold NaN.")
	bbits := GP32()
	MOVL(paramAddr("beta"), bbits)
	ANDL(U32(0x7fffffff), bbits)
	JZ(LabelRef(g.name + "_overwrite"))

	beta := bvec(1 % g.nv)
	if g.nv == 1 {
		beta = bcast(0)
	}
	VBROADCASTSS(paramAddr("beta"), beta)
	for i := 0; i < g.mr; i++ {
		for v := 0; v < g.nv; v++ {
			m := Mem{Base: cp, Disp: v * vbytes}
			VFMADD231PS(m, beta, acc(i, v))
			VMOVUPS(acc(i, v), m)
		}
		if i < g.mr-1 {
			ADDQ(ldc, cp)
		}
	}
	VZEROUPPER()
	RET()

	Label(g.name + "_overwrite")
	for i := 0; i < g.mr; i++ {
		for v := 0; v < g.nv; v++ {
			VMOVUPS(acc(i, v), Mem{Base: cp, Disp: v * vbytes})
		}
		if i < g.mr-1 {
			ADDQ(ldc, cp)
		}
	}
	VZEROUPPER()
	RET()
}

// paramAddr returns the frame slot of a scalar argument so that it can be
// broadcast straight from memory.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// genPeak emits fmaPeak loops: independent FMA chains with no memory traffic,
// which BenchmarkFMAPeak uses to measure the core's FP32 peak.
func genPeak(name string, wide bool) {
	TEXT(name, NOSPLIT, "func(n int)")
	Doc(name + " runs n trips of 24 FMAs on independent chains for BenchmarkFMAPeak.")
	g := gemmKernel{wide: wide}
	n := Load(Param("n"), GP64())
	chains := 24
	if !wide {
		chains = 12
	}
	for i := 0; i < chains+2; i++ {
		if wide {
			VPXORD(g.vec(i), g.vec(i), g.vec(i))
		} else {
			VXORPS(g.vec(i), g.vec(i), g.vec(i))
		}
	}
	Label(name + "_loop")
	for i := 0; i < chains; i++ {
		VFMADD231PS(g.vec(chains), g.vec(chains+1), g.vec(i))
	}
	if !wide {
		for i := 0; i < chains; i++ {
			VFMADD231PS(g.vec(chains), g.vec(chains+1), g.vec(i))
		}
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	VZEROUPPER()
	RET()
}
