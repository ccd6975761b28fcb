package main

// This file generates the AVX-512 kernels of the training step's
// elementwise work: the ReLU gradient mask, the convolution epilogue (bias
// and ReLU), Adam's update and 2x2 max pooling. Each handles whole 16-lane
// vectors (max pooling masks its last one); the Go wrappers check lengths
// and finish the tails with the pure-Go loops, whose results these match to
// the bit. It leaves out AVX2 versions: CPUs without AVX-512 run the Go
// loops.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Comparison predicates of VCMPPS.
const (
	cmpNLEUQ = 0x06 // not less than or equal, unordered: a > b or NaN
	cmpGTOQ  = 0x1e // greater than, ordered: a > b and neither NaN
)

func genSIMD() {
	genReLUMask()
	genBiasEpilogue()
	for _, mode := range []string{"Plain", "L2", "Decoupled"} {
		genAdam(mode)
	}
	genMaxPool2x2()
	genMaxPool2x2Back()
	genRows("rowsAVX512", 16)
	genRows("rowsAVX2", 8)
	genSGD()
	genPause()
	genBatchNorm()
}

// genPause emits the spin-wait hint the workers' spins run between looks
// at their channel: it lets a hyperthread sibling run and saves power.
func genPause() {
	TEXT("spinPause", NOSPLIT, "func()")
	Doc("spinPause runs PAUSE, the spin-wait hint.")
	PAUSE()
	RET()
}

// loop16 emits a loop that runs body over n/16 vectors, advancing ptrs by
// 64 bytes a trip.
func loop16(name string, n Register, ptrs []Register, body func()) {
	SHRQ(U8(4), n)
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	body()
	for _, p := range ptrs {
		ADDQ(U8(64), p)
	}
	DECQ(n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
}

func genReLUMask() {
	TEXT("reluMaskAVX512", NOSPLIT, "func(y, dy []float32)")
	Pragma("noescape")
	Doc("reluMaskAVX512 zeroes dy[i] unless y[i] > 0 (NaN is not), for the", "first len(y) rounded down to 16 elements.")
	y := Load(Param("y").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	n := Load(Param("y").Len(), GP64())
	zero := ZMM()
	VXORPS(zero, zero, zero)
	loop16("relumask", n, []Register{y, dy}, func() {
		v, d, k := ZMM(), ZMM(), K()
		VMOVUPS(Mem{Base: y}, v)
		VCMPPS(U8(cmpGTOQ), zero, v, k)
		VMOVUPS_Z(Mem{Base: dy}, k, d)
		VMOVUPS(d, Mem{Base: dy})
	})
	VZEROUPPER()
	RET()
}

func genBiasEpilogue() {
	TEXT("biasEpilogueAVX512", NOSPLIT, "func(out, in []float32, b float32, relu bool)")
	Pragma("noescape")
	Doc("biasEpilogueAVX512 writes out[i] = in[i] + b, or max(in[i]+b, 0) with", "relu (NaN stays NaN, -0 becomes +0), for the first len(out) rounded", "down to 16 elements.")
	out := Load(Param("out").Base(), GP64())
	in := Load(Param("in").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	relu := Load(Param("relu"), GP8())
	b, zero := ZMM(), ZMM()
	VBROADCASTSS(paramAddr("b"), b)
	VXORPS(zero, zero, zero)
	TESTB(relu, relu)
	JZ(LabelRef("epilogue_plain"))
	loop16("epilogue_relu", n, []Register{out, in}, func() {
		v, k := ZMM(), K()
		VADDPS(Mem{Base: in}, b, v)
		VCMPPS(U8(cmpNLEUQ), zero, v, k)
		VMOVUPS_Z(v, k, v)
		VMOVUPS(v, Mem{Base: out})
	})
	VZEROUPPER()
	RET()
	Label("epilogue_plain")
	loop16("epilogue_add", n, []Register{out, in}, func() {
		v := ZMM()
		VADDPS(Mem{Base: in}, b, v)
		VMOVUPS(v, Mem{Base: out})
	})
	VZEROUPPER()
	RET()
}

// genAdam emits one of Adam's three updates: Plain (no weight decay), L2
// (weight decay added to the gradient, torch.optim.Adam) or Decoupled
// (the parameter shrunk first, torch.optim.AdamW). The operations and their
// order are those of optim's Go loop, so the results are the same to the
// bit: m = m*b1 + g*c1; v = v*b2 + (c2*g)*g; p += (-step*m) / (sqrt(v)/bc2 + eps).
func genAdam(mode string) {
	name := "adam" + mode + "AVX512"
	TEXT(name, NOSPLIT, "func(p, g, m, v []float32, c *[9]float32)")
	Pragma("noescape")
	Doc(name+" is one Adam step over the first len(p) rounded down to 16", "elements; c holds b1, b2, c1, c2, bc2Sqrt, -stepSize, eps, wd and", "decay.")
	p := Load(Param("p").Base(), GP64())
	g := Load(Param("g").Base(), GP64())
	m := Load(Param("m").Base(), GP64())
	v := Load(Param("v").Base(), GP64())
	n := Load(Param("p").Len(), GP64())
	c := Load(Param("c"), GP64())
	coef := make([]VecVirtual, 9)
	for i := range coef {
		coef[i] = ZMM()
		VBROADCASTSS(Mem{Base: c, Disp: 4 * i}, coef[i])
	}
	b1, b2, c1, c2, bc2, nstep, eps, wd, decay := coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6], coef[7], coef[8]
	loop16(name, n, []Register{p, g, m, v}, func() {
		pv, gv, t1, t2 := ZMM(), ZMM(), ZMM(), ZMM()
		VMOVUPS(Mem{Base: g}, gv)
		VMOVUPS(Mem{Base: p}, pv)
		switch mode {
		case "L2":
			VMULPS(pv, wd, t1)
			VADDPS(t1, gv, gv)
		case "Decoupled":
			VMULPS(decay, pv, pv)
		}
		// m = m*b1 + g*c1
		VMULPS(Mem{Base: m}, b1, t1)
		VMULPS(c1, gv, t2)
		VADDPS(t2, t1, t1)
		VMOVUPS(t1, Mem{Base: m})
		// v = v*b2 + (c2*g)*g
		mv, vv := t1, ZMM()
		VMULPS(Mem{Base: v}, b2, vv)
		VMULPS(gv, c2, t2)
		VMULPS(gv, t2, t2)
		VADDPS(t2, vv, vv)
		VMOVUPS(vv, Mem{Base: v})
		// denom = sqrt(v)/bc2 + eps
		VSQRTPS(vv, vv)
		VDIVPS(bc2, vv, vv)
		VADDPS(eps, vv, vv)
		// p += (-step*m) / denom
		VMULPS(mv, nstep, t2)
		VDIVPS(vv, t2, t2)
		VADDPS(t2, pv, pv)
		VMOVUPS(pv, Mem{Base: p})
	})
	VZEROUPPER()
	RET()
}

// dwordsAll returns a new zmm with v in every 32-bit lane.
func dwordsAll(v uint32) VecVirtual {
	gp, z := GP32(), ZMM()
	MOVL(U32(v), gp)
	VPBROADCASTD(gp, z)
	return z
}

// dwords emits a read-only table of 16 int32s.
func dwords(name string, f func(i int) uint32) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := range 16 {
		DATA(4*i, U32(f(i)))
	}
	return m
}

// genMaxPool2x2 emits 2x2, stride-2 max pooling of one output row, with
// the index of the winner and PyTorch's rules (ties go to the earliest
// tap, NaN beats every number and a later NaN an earlier one), computed on
// integer keys as conv.maxKey does: k = (mag ^ s) - s for the bits' sign s
// and magnitude mag, and 0x7fc00000+rank for a NaN.
func genMaxPool2x2() {
	TEXT("maxPool2x2AVX512", NOSPLIT, "func(x, y []float32, idx []int32, rows, planeRows, blocks, ow int, m0, m1, mo uint16, w int32)")
	Pragma("noescape")
	Doc("maxPool2x2AVX512 pools rows output rows of ow outputs from input rows", "2i and 2i+1 of the w-wide x into y and idx: blocks whole blocks of 16", "outputs a row, then one block whose loads take the lanes of masks m0", "and m1 and whose stores those of mo (none when mo is 0). Every", "planeRows output rows a new plane starts, whose offsets count from 0.")
	even := dwords("pool_even", func(i int) uint32 { return uint32(2 * i) })
	odd := dwords("pool_odd", func(i int) uint32 { return uint32(2*i + 1) })
	x := Load(Param("x").Base(), GP64())
	yRow := Load(Param("y").Base(), GP64())
	idxRow := Load(Param("idx").Base(), GP64())
	rows := Load(Param("rows"), GP64())
	left := Load(Param("planeRows"), GP64())

	ie, io := ZMM(), ZMM()
	VMOVDQU32(even, ie)
	VMOVDQU32(odd, io)
	magMask, inf, one, step := dwordsAll(0x7fffffff), dwordsAll(0x7f800000), dwordsAll(1), dwordsAll(32)
	nanRank := []VecVirtual{dwordsAll(0x7fc00000), dwordsAll(0x7fc00001), dwordsAll(0x7fc00002), dwordsAll(0x7fc00003)}
	zero, wv, w1, rowStart, rowStep := ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
	VPXORD(zero, zero, zero)
	wr := Load(Param("w"), GP32())
	VPBROADCASTD(wr, wv)
	VPADDD(one, wv, w1)
	VPADDD(wv, wv, rowStep) // 2w: the next output row's top-left tap
	VPXORD(rowStart, rowStart, rowStart)
	wBytes, owBytes := GP64(), Load(Param("ow"), GP64())
	MOVLQSX(wr, wBytes)
	SHLQ(U8(2), wBytes)
	SHLQ(U8(2), owBytes)
	k0, k1, ko := K(), K(), K()
	KMOVW(Load(Param("m0"), GP32()), k0)
	KMOVW(Load(Param("m1"), GP32()), k1)
	KMOVW(Load(Param("mo"), GP32()), ko)
	r0, r1, y, idx, blocks := GP64(), GP64(), GP64(), GP64(), GP64()
	pos := ZMM()

	key := func(x VecVirtual, rank int) VecVirtual {
		s, mag, k, kn := ZMM(), ZMM(), ZMM(), K()
		VPSRAD(U8(31), x, s)
		VPANDD(magMask, x, mag)
		VPXORD(s, mag, k)
		VPSUBD(s, k, k)
		VPCMPGTD(inf, mag, kn)
		VPBLENDMD(nanRank[rank], k, kn, k)
		return k
	}
	// block pools 16 outputs; with masks, only their lanes are read and
	// written.
	block := func(k0, k1, ko Op) {
		taps := make([]VecVirtual, 4) // a, b: row 0's even and odd taps; c, d: row 1's
		for r, src := range []Register{r0, r1} {
			lo, hi := ZMM(), ZMM()
			if k0 == nil {
				VMOVUPS(Mem{Base: src}, lo)
				VMOVUPS(Mem{Base: src, Disp: 64}, hi)
			} else {
				VMOVUPS_Z(Mem{Base: src}, k0, lo)
				VMOVUPS_Z(Mem{Base: src, Disp: 64}, k1, hi)
			}
			e, o := ZMM(), ZMM()
			VMOVAPS(lo, e)
			VPERMT2PS(hi, ie, e)
			VMOVAPS(lo, o)
			VPERMT2PS(hi, io, o)
			taps[2*r], taps[2*r+1] = e, o
		}
		a, b, c, d := taps[0], taps[1], taps[2], taps[3]
		ka, kb, kc, kd := key(a, 0), key(b, 1), key(c, 2), key(d, 3)
		m1, m2, m3 := K(), K(), K()
		topOff, botOff := ZMM(), ZMM()
		// The top pair's winner, the bottom pair's, then the better of the
		// two; a strictly greater key is needed to displace an earlier tap.
		VPCMPGTD(ka, kb, m1)
		VPBLENDMD(b, a, m1, a)
		VPBLENDMD(kb, ka, m1, ka)
		VPBLENDMD(one, zero, m1, topOff)
		VPCMPGTD(kc, kd, m2)
		VPBLENDMD(d, c, m2, c)
		VPBLENDMD(kd, kc, m2, kc)
		VPBLENDMD(w1, wv, m2, botOff)
		VPCMPGTD(ka, kc, m3)
		VPBLENDMD(c, a, m3, a)
		VPBLENDMD(botOff, topOff, m3, topOff)
		VPADDD(pos, topOff, topOff)
		if ko == nil {
			VMOVUPS(a, Mem{Base: y})
			VMOVDQU32(topOff, Mem{Base: idx})
		} else {
			VMOVUPS(a, ko, Mem{Base: y})
			VMOVDQU32(topOff, ko, Mem{Base: idx})
		}
	}
	Label("pool_row")
	TESTQ(rows, rows)
	JZ(LabelRef("pool_done"))
	VPADDD(ie, rowStart, pos) // 2i*w + 2*lane: the top-left tap of each window
	MOVQ(x, r0)
	MOVQ(x, r1)
	ADDQ(wBytes, r1)
	MOVQ(yRow, y)
	MOVQ(idxRow, idx)
	Load(Param("blocks"), blocks)
	Label("pool_loop")
	TESTQ(blocks, blocks)
	JZ(LabelRef("pool_tail"))
	block(nil, nil, nil)
	ADDQ(U8(128), r0)
	ADDQ(U8(128), r1)
	ADDQ(U8(64), y)
	ADDQ(U8(64), idx)
	VPADDD(step, pos, pos)
	DECQ(blocks)
	JMP(LabelRef("pool_loop"))

	Label("pool_tail")
	KORTESTW(ko, ko)
	JZ(LabelRef("pool_next"))
	block(k0, k1, ko)
	Label("pool_next")
	ADDQ(wBytes, x) // two input rows on
	ADDQ(wBytes, x)
	ADDQ(owBytes, yRow)
	ADDQ(owBytes, idxRow)
	nextPoolRow("pool", rows, left, rowStart, rowStep)
	Label("pool_done")
	VZEROUPPER()
	RET()
}

// nextPoolRow emits the end of a pooling kernel's row loop: the next
// row's top-left offset (rowStart += 2w), restarting at 0 after planeRows
// rows, then back to label prefix_row while rows remain.
func nextPoolRow(prefix string, rows, left Register, rowStart, rowStep VecVirtual) {
	VPADDD(rowStep, rowStart, rowStart)
	DECQ(left)
	JNZ(LabelRef(prefix + "_same_plane"))
	VPXORD(rowStart, rowStart, rowStart)
	Load(Param("planeRows"), left)
	Label(prefix + "_same_plane")
	DECQ(rows)
	JMP(LabelRef(prefix + "_row"))
}

// genMaxPool2x2Back emits the backward pass of 2x2, stride-2 max pooling
// over rows output rows of a plane, writing the input gradient densely
// instead of clearing it and scattering into it: each output's gradient
// (plus +0, as the cleared buffer's add gave) goes to the tap its index
// names and +0 to the other three, and the two input rows are interleaved
// back from their even and odd lanes. Loads and stores of the last block
// take the lanes of masks mo (outputs) and m0, m1 (the two 16-float
// halves of each input row).
func genMaxPool2x2Back() {
	TEXT("maxPool2x2BackAVX512", NOSPLIT, "func(dy []float32, idx []int32, dx []float32, rows, planeRows, blocks, ow int, m0, m1, mo uint16, w int32)")
	Pragma("noescape")
	Doc("maxPool2x2BackAVX512 overwrites columns [0, 2*ow) of input rows 2i and", "2i+1 of the w-wide dx with the gradients of output rows i < rows:", "blocks whole blocks of 16 outputs a row, then the lanes of mo. Every", "planeRows output rows a new plane starts, whose idx counts from 0 again.")
	lo := dwords("pool_interleave_lo", func(i int) uint32 { return uint32(i/2 + 16*(i%2)) })
	hi := dwords("pool_interleave_hi", func(i int) uint32 { return uint32(8 + i/2 + 16*(i%2)) })
	dy := Load(Param("dy").Base(), GP64())
	idx := Load(Param("idx").Base(), GP64())
	dx := Load(Param("dx").Base(), GP64())
	rows := Load(Param("rows"), GP64())
	wr := Load(Param("w"), GP32())

	ilo, ihi, zero, wv, w1, rowStart, twoLanes := ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
	VMOVDQU32(lo, ilo)
	VMOVDQU32(hi, ihi)
	VPXORD(zero, zero, zero)
	VPBROADCASTD(wr, wv)
	one, step := dwordsAll(1), dwordsAll(32)
	VPADDD(one, wv, w1)
	even := dwords("pool_back_even", func(i int) uint32 { return uint32(2 * i) })
	VMOVDQU32(even, twoLanes) // 2*lane: each output's top-left tap from its block's start
	VPXORD(rowStart, rowStart, rowStart)
	rowStep, twoW := ZMM(), GP64()
	VPADDD(wv, wv, rowStep) // 2w: the top-left of the next output row
	MOVLQSX(wr, twoW)
	SHLQ(U8(3), twoW) // 2w floats, in bytes

	k0, k1, ko := K(), K(), K()
	KMOVW(Load(Param("m0"), GP32()), k0)
	KMOVW(Load(Param("m1"), GP32()), k1)
	KMOVW(Load(Param("mo"), GP32()), ko)
	owBytes := Load(Param("ow"), GP64())
	SHLQ(U8(2), owBytes)
	left := Load(Param("planeRows"), GP64()) // rows left in this plane

	// block routes 16 outputs at pos (their top-left taps) into the two
	// rows at r0 and r1; masked, only the lanes of ko, k0 and k1.
	block := func(pos VecVirtual, g, ix Op, r0, r1 Register, masked bool) {
		gv, iv := ZMM(), ZMM()
		if masked {
			VMOVUPS_Z(g, ko, gv)
			VMOVDQU32_Z(ix, ko, iv)
		} else {
			VMOVUPS(g, gv)
			VMOVDQU32(ix, iv)
		}
		VADDPS(zero, gv, gv) // 0 + g, as the cleared buffer gave (-0 becomes +0)
		VPSUBD(pos, iv, iv)  // the tap: 0, 1, w or w+1
		var taps [4]VecVirtual
		for t, off := range []VecVirtual{zero, one, wv, w1} {
			m := K()
			VPCMPEQD(off, iv, m)
			taps[t] = ZMM()
			VMOVAPS_Z(gv, m, taps[t])
		}
		for r, row := range []Register{r0, r1} {
			e, o := taps[2*r], taps[2*r+1]
			a, b := ZMM(), ZMM()
			VMOVAPS(e, a)
			VPERMT2PS(o, ilo, a)
			VMOVAPS(e, b)
			VPERMT2PS(o, ihi, b)
			if masked {
				VMOVUPS(a, k0, Mem{Base: row})
				VMOVUPS(b, k1, Mem{Base: row, Disp: 64})
			} else {
				VMOVUPS(a, Mem{Base: row})
				VMOVUPS(b, Mem{Base: row, Disp: 64})
			}
		}
	}

	Label("back_row")
	TESTQ(rows, rows)
	JZ(LabelRef("back_done"))
	pos := ZMM()
	VPADDD(twoLanes, rowStart, pos)
	r0, r1, pd, pi, n := GP64(), GP64(), GP64(), GP64(), GP64()
	MOVQ(dx, r0)
	MOVQ(twoW, r1)
	SHRQ(U8(1), r1)
	ADDQ(r0, r1)
	MOVQ(dy, pd)
	MOVQ(idx, pi)
	Load(Param("blocks"), n)
	Label("back_block")
	TESTQ(n, n)
	JZ(LabelRef("back_tail"))
	block(pos, Mem{Base: pd}, Mem{Base: pi}, r0, r1, false)
	ADDQ(U8(64), pd)
	ADDQ(U8(64), pi)
	ADDQ(U32(128), r0)
	ADDQ(U32(128), r1)
	VPADDD(step, pos, pos)
	DECQ(n)
	JMP(LabelRef("back_block"))
	Label("back_tail")
	KORTESTW(ko, ko)
	JZ(LabelRef("back_next"))
	block(pos, Mem{Base: pd}, Mem{Base: pi}, r0, r1, true)
	Label("back_next")
	ADDQ(owBytes, dy)
	ADDQ(owBytes, idx)
	ADDQ(twoW, dx)
	nextPoolRow("back", rows, left, rowStart, rowStep)
	Label("back_done")
	VZEROUPPER()
	RET()
}

// genRows emits the row kernel of im2col and col2im: planes of rows of n
// floats, copied (add false) or added (add true) from src to dst. Row r of
// plane q is at q*srcPlane + r*srcStride in src and likewise in dst. Whole
// vectors of lanes floats (16 for AVX-512, 8 for AVX2), then the tail in 8,
// 4, 2 and 1 lanes; lengths are the Go wrapper's to check.
//
// The tail touches exactly its floats. It was one masked 64-byte vector,
// but a masked store's whole 64 bytes count against the loads after it:
// col2im's next row, 14 floats on in conv2's 14-wide gradient, then waits
// for the store to retire instead of taking it from the store buffer. On
// the Zen 5 that cost 25 cycles a 10-float row, against 6.5 for the
// same rows 30 floats apart.
func genRows(name string, lanes int) {
	vec := func() Register { return ZMM() }
	if lanes == 8 {
		vec = func() Register { return YMM() }
	}
	width := U8(4 * lanes)
	TEXT(name, NOSPLIT, "func(dst, src []float32, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane, mode int)")
	Pragma("noescape")
	Doc(name+" copies (mode rowsCopy, rowsRun) or adds (rowsAdd) planes of", "rows of n floats from src to dst.")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	planes := Load(Param("planes"), GP64())
	mode := Load(Param("mode"), GP64())
	CMPQ(mode, U8(rowsAdd))
	JE(LabelRef("rows_add_plane"))
	CMPQ(mode, U8(rowsRun))
	JE(LabelRef("rows_run_plane"))
	for _, mode := range []string{"copy", "add", "run"} {
		Label("rows_" + mode + "_plane")
		TESTQ(planes, planes)
		JZ(LabelRef("rows_done"))
		rows := Load(Param("rows"), GP64())
		ds := Load(Param("dstStride"), GP64())
		ss := Load(Param("srcStride"), GP64())
		SHLQ(U8(2), ds)
		SHLQ(U8(2), ss)
		pd, ps := GP64(), GP64()
		MOVQ(dst, pd)
		MOVQ(src, ps)
		Label("rows_" + mode + "_row")
		TESTQ(rows, rows)
		JZ(LabelRef("rows_" + mode + "_next_plane"))
		n := Load(Param("n"), GP64())
		d, s := GP64(), GP64()
		MOVQ(pd, d)
		MOVQ(ps, s)
		if mode == "run" {
			// Rows shorter than a vector, each whole-vector store spilling
			// into the next row's place, which the next row overwrites;
			// the plane's last row stops at its end.
			CMPQ(rows, U8(1))
			JE(LabelRef("rows_run_tail"))
			v := vec()
			VMOVUPS(Mem{Base: s}, v)
			VMOVUPS(v, Mem{Base: d})
			JMP(LabelRef("rows_run_next"))
		} else {
			Label("rows_" + mode + "_vec")
			CMPQ(n, U8(lanes))
			JL(LabelRef("rows_" + mode + "_tail"))
			v := vec()
			VMOVUPS(Mem{Base: s}, v)
			if mode == "add" {
				VADDPS(Mem{Base: d}, v, v)
			}
			VMOVUPS(v, Mem{Base: d})
			ADDQ(width, d)
			ADDQ(width, s)
			SUBQ(U8(lanes), n)
			JMP(LabelRef("rows_" + mode + "_vec"))
		}
		Label("rows_" + mode + "_tail")
		if mode == "copy" {
			// A row of a vector or more ends with one whole vector that
			// overlaps the one before it: copying twice is harmless.
			TESTQ(n, n)
			JZ(LabelRef("rows_copy_next"))
			CMPQ(d, pd)
			JE(LabelRef("rows_copy_short"))
			back := GP64()
			MOVQ(U32(lanes), back)
			SUBQ(n, back)
			SHLQ(U8(2), back)
			SUBQ(back, d)
			SUBQ(back, s)
			u := vec()
			VMOVUPS(Mem{Base: s}, u)
			VMOVUPS(u, Mem{Base: d})
			JMP(LabelRef("rows_copy_next"))
			Label("rows_copy_short")
		}
		rowsTail(mode, lanes, n, d, s)
		Label("rows_" + mode + "_next")
		ADDQ(ds, pd)
		ADDQ(ss, ps)
		DECQ(rows)
		JMP(LabelRef("rows_" + mode + "_row"))
		Label("rows_" + mode + "_next_plane")
		dp := Load(Param("dstPlane"), GP64())
		sp := Load(Param("srcPlane"), GP64())
		SHLQ(U8(2), dp)
		SHLQ(U8(2), sp)
		ADDQ(dp, dst)
		ADDQ(sp, src)
		DECQ(planes)
		JMP(LabelRef("rows_" + mode + "_plane"))
	}
	Label("rows_done")
	VZEROUPPER()
	RET()
}

// The modes of rowsAVX512, as the Go wrapper passes them.
const (
	rowsCopy = iota
	rowsAdd
	rowsRun // copy rows under 16 floats into rows that follow on in dst
)

// rowsTail emits the copy or add of the last n < width floats of a row
// from s to d: 8 lanes when n >= 8 (with 16-lane vectors), then 4, then 2,
// then 1, each load and store no wider than its floats.
func rowsTail(mode string, width int, n, d, s Register) {
	for _, lanes := range []int{8, 4, 2, 1} {
		if lanes >= width {
			continue
		}
		skip := fmt.Sprintf("rows_%s_tail_%d", mode, lanes)
		CMPQ(n, U8(lanes))
		JL(LabelRef(skip))
		var v, u Register = XMM(), XMM()
		if lanes == 8 {
			v, u = YMM(), YMM()
		}
		tailMove(lanes, Mem{Base: s}, v)
		if mode == "add" {
			tailMove(lanes, Mem{Base: d}, u)
			VADDPS(u, v, v) // the 2- and 1-float loads zero the lanes above
		}
		tailMove(lanes, v, Mem{Base: d})
		ADDQ(U8(4*lanes), d)
		ADDQ(U8(4*lanes), s)
		SUBQ(U8(lanes), n)
		Label(skip)
	}
}

// tailMove moves lanes floats between memory and a vector register: 8 or
// 4 with VMOVUPS, 2 with VMOVSD, 1 with VMOVSS.
func tailMove(lanes int, from, to Op) {
	switch lanes {
	case 2:
		VMOVSD(from, to)
	case 1:
		VMOVSS(from, to)
	default:
		VMOVUPS(from, to)
	}
}

// SGD's flags, as the Go wrapper passes them.
const (
	sgdWD       = 1 << iota // add wd*p to the gradient
	sgdMomentum             // keep a momentum buffer
	sgdFirst                // the first step: the buffer starts as the gradient
	sgdNesterov             // Nesterov momentum
)

// genSGD emits torch.optim.SGD's update in the operation order of optim's
// Go loop: g += wd*p; buf = g on the first step, else mom*buf + damp*g;
// g = buf, or g + mom*buf with Nesterov; p -= lr*g. The flags are tested
// once a vector, always the same way, so the branches cost nothing.
func genSGD() {
	TEXT("sgdAVX512", NOSPLIT, "func(p, g, buf []float32, c *[4]float32, flags uint8)")
	Pragma("noescape")
	Doc("sgdAVX512 is one SGD step over the first len(p) rounded down to 16", "elements; c holds lr, wd, momentum and 1-dampening.")
	p := Load(Param("p").Base(), GP64())
	g := Load(Param("g").Base(), GP64())
	buf := Load(Param("buf").Base(), GP64())
	n := Load(Param("p").Len(), GP64())
	c := Load(Param("c"), GP64())
	flags := Load(Param("flags"), GP8())
	lr, wd, mom, damp := ZMM(), ZMM(), ZMM(), ZMM()
	for i, z := range []VecVirtual{lr, wd, mom, damp} {
		VBROADCASTSS(Mem{Base: c, Disp: 4 * i}, z)
	}
	loop16("sgd", n, []Register{p, g, buf}, func() {
		pv, gv, bv, t := ZMM(), ZMM(), ZMM(), ZMM()
		VMOVUPS(Mem{Base: p}, pv)
		VMOVUPS(Mem{Base: g}, gv)
		TESTB(U8(sgdWD), flags)
		JZ(LabelRef("sgd_nowd"))
		VMULPS(pv, wd, t)
		VADDPS(t, gv, gv)
		Label("sgd_nowd")
		TESTB(U8(sgdMomentum), flags)
		JZ(LabelRef("sgd_update"))
		TESTB(U8(sgdFirst), flags)
		JZ(LabelRef("sgd_later"))
		VMOVAPS(gv, bv)
		JMP(LabelRef("sgd_stored"))
		Label("sgd_later")
		VMULPS(Mem{Base: buf}, mom, bv)
		VMULPS(gv, damp, t)
		VADDPS(t, bv, bv)
		Label("sgd_stored")
		VMOVUPS(bv, Mem{Base: buf})
		TESTB(U8(sgdNesterov), flags)
		JZ(LabelRef("sgd_plain"))
		VMULPS(bv, mom, t)
		VADDPS(t, gv, gv)
		JMP(LabelRef("sgd_update"))
		Label("sgd_plain")
		VMOVAPS(bv, gv)
		Label("sgd_update")
		VMULPS(gv, lr, t)
		VSUBPS(t, pv, pv)
		VMOVUPS(pv, Mem{Base: p})
	})
	VZEROUPPER()
	RET()
}
