package main

// This file generates the AVX-512 loops of batch normalisation and of the
// ReLU: each does the Go loop's operations in the Go loop's order, one
// rounding each, so that they match it to the bit (the Go loops convert
// explicitly where a compiler could fuse a multiply and an add). The float64
// sums keep the Go loop's four running sums as the four lanes of a ymm
// register. It leaves out the tails, which the Go loops finish.

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func genBatchNorm() {
	genBNNormalize()
	genBNInputGrad("bnInputGradAVX512", false)
	genBNInputGrad("bnInputGradIntoAVX512", true)
	genSums4("sums4AddAVX", false)
	genSums4("sums4SquaresAVX", true)
	genGradSums4()
	genReLU()
	genReLUGradAdd("reluGradAddAVX512", false)
	genReLUGradAdd("reluGradIntoAVX512", true)
}

// broadcastParam broadcasts a float32 argument to every lane of a new zmm.
func broadcastParam(name string) VecVirtual {
	z := ZMM()
	VBROADCASTSS(paramAddr(name), z)
	return z
}

func genBNNormalize() {
	TEXT("bnNormalizeAVX512", NOSPLIT, "func(dst, src []float32, mu, scale, shift float32)")
	Pragma("noescape")
	Doc("bnNormalizeAVX512 writes dst[i] = (src[i]-mu)*scale + shift, each operation rounded,",
		"for the first len(dst) rounded down to 16 elements.")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	mu, scale, shift := broadcastParam("mu"), broadcastParam("scale"), broadcastParam("shift")
	loop16("bnnorm", n, []Register{dst, src}, func() {
		v := ZMM()
		VMOVUPS(Mem{Base: src}, v)
		VSUBPS(mu, v, v)
		VMULPS(scale, v, v)
		VADDPS(shift, v, v)
		VMOVUPS(v, Mem{Base: dst})
	})
	VZEROUPPER()
	RET()
}

// genBNInputGrad emits the input gradient's loop; with into it writes
// the term plus +0 instead of adding it to out: what adding it to a
// cleared buffer gives, without clearing one.
func genBNInputGrad(name string, into bool) {
	TEXT(name, NOSPLIT, "func(out, x, dy []float32, mu, is, k, a, b float32)")
	Pragma("noescape")
	to := "adds k*((dy[i]-a) - ((x[i]-mu)*is)*b) to out[i]"
	if into {
		to = "writes k*((dy[i]-a) - ((x[i]-mu)*is)*b) + 0 to out[i]"
	}
	Doc(name+" "+to+", each operation", "rounded, for the first len(out) rounded down to 16 elements.")
	out := Load(Param("out").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	mu, is, k, a, b := broadcastParam("mu"), broadcastParam("is"), broadcastParam("k"), broadcastParam("a"), broadcastParam("b")
	zero := ZMM()
	VPXORD(zero, zero, zero)
	loop16(name, n, []Register{out, x, dy}, func() {
		t, e := ZMM(), ZMM()
		VMOVUPS(Mem{Base: x}, t)
		VSUBPS(mu, t, t)
		VMULPS(is, t, t)
		VMULPS(b, t, t)
		VMOVUPS(Mem{Base: dy}, e)
		VSUBPS(a, e, e)
		VSUBPS(t, e, e)
		VMULPS(k, e, e)
		if into {
			VADDPS(zero, e, e)
		} else {
			VADDPS(Mem{Base: out}, e, e)
		}
		VMOVUPS(e, Mem{Base: out})
	})
	VZEROUPPER()
	RET()
}

// genSums4 emits a loop adding xs[i] (or (xs[i]-mean)^2 with squares, in
// float64) to lane i%4 of the four sums at s, over the first len(xs)
// rounded down to 4 elements.
func genSums4(name string, squares bool) {
	sig := "func(s *[4]float64, xs []float32)"
	if squares {
		sig = "func(s *[4]float64, xs []float32, mean float64)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	what := "xs[i]"
	if squares {
		what = "(float64(xs[i])-mean)^2"
	}
	Doc(name+" adds "+what+" to s[i%4] in element order, for the first len(xs)",
		"rounded down to 4 elements.")
	sp := Load(Param("s"), GP64())
	xs := Load(Param("xs").Base(), GP64())
	n := Load(Param("xs").Len(), GP64())
	acc := YMM()
	VMOVUPD(Mem{Base: sp}, acc)
	var mean VecVirtual
	if squares {
		mean = YMM()
		VBROADCASTSD(paramAddr("mean"), mean)
	}
	SHRQ(U8(2), n)
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	v := YMM()
	VCVTPS2PD(Mem{Base: xs}, v)
	if squares {
		VSUBPD(mean, v, v)
		VMULPD(v, v, v)
	}
	VADDPD(v, acc, acc)
	ADDQ(U8(16), xs)
	DECQ(n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VMOVUPD(acc, Mem{Base: sp})
	VZEROUPPER()
	RET()
}

func genGradSums4() {
	TEXT("gradSums4AVX", NOSPLIT, "func(s, sx *[4]float64, xs, dy []float32, mu, is float32)")
	Pragma("noescape")
	Doc("gradSums4AVX adds dy[i] to s[i%4] and dy[i]*((xs[i]-mu)*is), the product in float64",
		"of the float32 xhat, to sx[i%4], in element order, for the first len(xs) rounded",
		"down to 4 elements.")
	sp := Load(Param("s"), GP64())
	sxp := Load(Param("sx"), GP64())
	xs := Load(Param("xs").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	n := Load(Param("xs").Len(), GP64())
	acc, accx := YMM(), YMM()
	VMOVUPD(Mem{Base: sp}, acc)
	VMOVUPD(Mem{Base: sxp}, accx)
	mu, is := XMM(), XMM()
	VBROADCASTSS(paramAddr("mu"), mu)
	VBROADCASTSS(paramAddr("is"), is)
	SHRQ(U8(2), n)
	Label("gradsums_loop")
	TESTQ(n, n)
	JZ(LabelRef("gradsums_done"))
	g, t, h := YMM(), XMM(), YMM()
	VCVTPS2PD(Mem{Base: dy}, g)
	VADDPD(g, acc, acc)
	VMOVUPS(Mem{Base: xs}, t)
	VSUBPS(mu, t, t)
	VMULPS(is, t, t)
	VCVTPS2PD(t, h)
	VMULPD(h, g, g)
	VADDPD(g, accx, accx)
	ADDQ(U8(16), xs)
	ADDQ(U8(16), dy)
	DECQ(n)
	JMP(LabelRef("gradsums_loop"))
	Label("gradsums_done")
	VMOVUPD(acc, Mem{Base: sp})
	VMOVUPD(accx, Mem{Base: sxp})
	VZEROUPPER()
	RET()
}

func genReLU() {
	TEXT("reluAVX512", NOSPLIT, "func(dst, src []float32)")
	Pragma("noescape")
	Doc("reluAVX512 writes dst[i] = src[i] where its sign bit is clear or it is a NaN, and +0",
		"elsewhere, for the first len(dst) rounded down to 16 elements.")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	magMask, inf := dwordsAll(0x7fffffff), dwordsAll(0x7f800000)
	zero := ZMM()
	VPXORD(zero, zero, zero)
	loop16("relu", n, []Register{dst, src}, func() {
		v, mag := ZMM(), ZMM()
		keep, nan := K(), K()
		VMOVDQU32(Mem{Base: src}, v)
		VPCMPGTD(zero, v, keep) // v > 0 as int32: the sign clear (+0 is zeroed to itself)
		VPANDD(magMask, v, mag)
		VPCMPGTD(inf, mag, nan)
		KORW(nan, keep, keep)
		VMOVDQU32_Z(v, keep, v)
		VMOVDQU32(v, Mem{Base: dst})
	})
	VZEROUPPER()
	RET()
}

// genReLUGradAdd emits the ReLU's gradient loop; with into it writes the
// masked gradient plus +0 instead of adding it to dx.
func genReLUGradAdd(name string, into bool) {
	TEXT(name, NOSPLIT, "func(dx, dy, y []float32)")
	Pragma("noescape")
	to := "adds dy[i] to dx[i]"
	if into {
		to = "writes dy[i] + 0 to dx[i]"
	}
	Doc(name+" "+to+" where y[i] is in (+0, +Inf] and +0 elsewhere,",
		"for the first len(dx) rounded down to 16 elements.")
	dx := Load(Param("dx").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("dx").Len(), GP64())
	hi, zero := dwordsAll(0x7f800001), ZMM()
	VPXORD(zero, zero, zero)
	loop16(name, n, []Register{dx, dy, y}, func() {
		b, g := ZMM(), ZMM()
		pos, below := K(), K()
		VMOVDQU32(Mem{Base: y}, b)
		VPCMPGTD(zero, b, pos) // b > 0 as int32: +0 and negatives out
		VPCMPGTD(b, hi, below) // 0x7f800001 > b: NaNs out, +Inf in
		KANDW(below, pos, pos)
		VMOVUPS_Z(Mem{Base: dy}, pos, g)
		if into {
			VADDPS(zero, g, g)
		} else {
			VADDPS(Mem{Base: dx}, g, g)
		}
		VMOVUPS(g, Mem{Base: dx})
	})
	VZEROUPPER()
	RET()
}
