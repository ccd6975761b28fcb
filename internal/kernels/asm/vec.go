package main

// This file generates the AVX2+FMA vector kernels: Axpy, Dot, Scale and Sum.
// They are memory-bound, so ymm is as fast as zmm and runs on more CPUs. It
// leaves out length checks: the Go wrappers make them.

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// vecUnroll is how many ymm registers each main-loop trip handles: 8
// independent accumulators cover the 4-cycle FMA latency on two pipes.
const vecUnroll = 8

func genVec() {
	genAxpy()
	genDot()
	genScale()
	genSum()
}

// vecLoops emits the shared skeleton: a main loop over vecUnroll vectors, a
// loop over single vectors and a scalar loop. body gets the offset in bytes
// and how many vectors (0 meaning one scalar) to handle at p+off.
func vecLoops(name string, n Register, ptrs []Register, body func(off, vecs int)) {
	Label(name + "_big")
	CMPQ(n, U32(8*vecUnroll))
	JL(LabelRef(name + "_one"))
	for u := 0; u < vecUnroll; u++ {
		body(32*u, 1)
	}
	for _, p := range ptrs {
		ADDQ(U32(32*vecUnroll), p)
	}
	SUBQ(U32(8*vecUnroll), n)
	JMP(LabelRef(name + "_big"))

	Label(name + "_one")
	CMPQ(n, U8(8))
	JL(LabelRef(name + "_scalar"))
	body(0, 1)
	for _, p := range ptrs {
		ADDQ(U8(32), p)
	}
	SUBQ(U8(8), n)
	JMP(LabelRef(name + "_one"))

	Label(name + "_scalar")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	body(0, 0)
	for _, p := range ptrs {
		ADDQ(U8(4), p)
	}
	DECQ(n)
	JMP(LabelRef(name + "_scalar"))
	Label(name + "_done")
}

func genAxpy() {
	TEXT("axpyAVX2", NOSPLIT, "func(alpha float32, x, y []float32)")
	Pragma("noescape")
	Doc("axpyAVX2 computes y[i] += alpha*x[i] for i < len(x).")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	alpha := YMM()
	VBROADCASTSS(paramAddr("alpha"), alpha)
	t := ymms(vecUnroll)
	u := 0
	vecLoops("axpy", n, []Register{x, y}, func(off, vecs int) {
		r := t[u%vecUnroll]
		u++
		if vecs == 0 {
			VMOVSS(Mem{Base: x}, r.AsX())
			VFMADD213SS(Mem{Base: y}, alpha.AsX(), r.AsX())
			VMOVSS(r.AsX(), Mem{Base: y})
			return
		}
		VMOVUPS(Mem{Base: x, Disp: off}, r)
		VFMADD213PS(Mem{Base: y, Disp: off}, alpha, r)
		VMOVUPS(r, Mem{Base: y, Disp: off})
	})
	VZEROUPPER()
	RET()
}

func genScale() {
	TEXT("scaleAVX2", NOSPLIT, "func(alpha float32, x []float32)")
	Pragma("noescape")
	Doc("scaleAVX2 computes x[i] *= alpha.")
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	alpha := YMM()
	VBROADCASTSS(paramAddr("alpha"), alpha)
	t := ymms(vecUnroll)
	u := 0
	vecLoops("scale", n, []Register{x}, func(off, vecs int) {
		r := t[u%vecUnroll]
		u++
		if vecs == 0 {
			VMULSS(Mem{Base: x}, alpha.AsX(), r.AsX())
			VMOVSS(r.AsX(), Mem{Base: x})
			return
		}
		VMULPS(Mem{Base: x, Disp: off}, alpha, r)
		VMOVUPS(r, Mem{Base: x, Disp: off})
	})
	VZEROUPPER()
	RET()
}

// ymms allocates n virtual ymm registers.
func ymms(n int) []VecVirtual {
	r := make([]VecVirtual, n)
	for i := range r {
		r[i] = YMM()
	}
	return r
}

// reduce folds the accumulators into one, pairwise, and leaves its
// horizontal sum plus the scalar tail in the low lane of acc[0].
func reduce(acc []VecVirtual, tail VecVirtual) {
	for w := 1; w < len(acc); w *= 2 {
		for i := 0; i+w < len(acc); i += 2 * w {
			VADDPS(acc[i+w], acc[i], acc[i])
		}
	}
	hi := XMM()
	VEXTRACTF128(U8(1), acc[0], hi)
	lo := acc[0].AsX()
	VADDPS(hi, lo, lo)
	VMOVHLPS(lo, lo, hi)
	VADDPS(hi, lo, lo)
	VMOVSHDUP(lo, hi)
	VADDSS(hi, lo, lo)
	VADDSS(tail.AsX(), lo, lo)
}

func genDot() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y []float32) float32")
	Pragma("noescape")
	Doc("dotAVX2 returns the sum of x[i]*y[i] for i < len(x).")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	acc := ymms(vecUnroll)
	for _, r := range acc {
		VXORPS(r, r, r)
	}
	tail := XMM()
	VXORPS(tail, tail, tail)
	t := ymms(vecUnroll)
	u := 0
	vecLoops("dot", n, []Register{x, y}, func(off, vecs int) {
		i := u % vecUnroll
		u++
		if vecs == 0 {
			VMOVSS(Mem{Base: x}, t[0].AsX())
			VFMADD231SS(Mem{Base: y}, t[0].AsX(), tail)
			return
		}
		VMOVUPS(Mem{Base: x, Disp: off}, t[i])
		VFMADD231PS(Mem{Base: y, Disp: off}, t[i], acc[i])
	})
	reduce(acc, tail)
	Store(acc[0].AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func genSum() {
	TEXT("sumAVX2", NOSPLIT, "func(x []float32) float32")
	Pragma("noescape")
	Doc("sumAVX2 returns the sum of x.")
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	acc := ymms(vecUnroll)
	for _, r := range acc {
		VXORPS(r, r, r)
	}
	tail := XMM()
	VXORPS(tail, tail, tail)
	u := 0
	vecLoops("sum", n, []Register{x}, func(off, vecs int) {
		i := u % vecUnroll
		u++
		if vecs == 0 {
			VADDSS(Mem{Base: x}, tail, tail)
			return
		}
		VADDPS(Mem{Base: x, Disp: off}, acc[i], acc[i])
	})
	reduce(acc, tail)
	Store(acc[0].AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}
