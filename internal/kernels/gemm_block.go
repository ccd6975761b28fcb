package kernels

// This file is the Goto/BLIS blocked driver: it walks C in NC-wide column
// blocks, K in KC-deep slices and M in MC-tall row blocks, packs the
// matching parts of A and B, and hands mr x nr tiles to a micro-kernel. It
// leaves out threads (gemm_threads.go) and the packing loops (gemm_pack.go).

import (
	"sync"
	"unsafe"
)

// kernelFunc computes one full mr x nr tile C = alpha*Ap*B + beta*C from a
// packed panel Ap (k x mr, mr contiguous per k) and a k x nr panel of B
// whose row p starts at b+p*ldb (ldb == nr when packed). beta == 0 must not
// read C. ldb and ldc are in elements.
type kernelFunc func(k int, a, b, c *float32, ldb, ldc int, alpha, beta float32)

// microKernel is a register tile together with the cache blocking tuned
// for it.
type microKernel struct {
	name   string
	mr, nr int
	fn     kernelFunc
	// mc x kc of packed A is meant to stay in L2 and kc x nr of packed B in
	// L1; nc bounds the packed B block (kc x nc) kept in L3.
	mc, kc, nc int
	// directBMaxM is the largest m for which an untransposed B is read in
	// place instead of packed: with few row tiles each B element is used
	// too few times to repay copying it. On Zen 5 reading in place won by
	// 10-40% up to m=256 (1.4x on 64x25088x800) and tied beyond.
	directBMaxM int
}

// workspace holds one goroutine's packing buffers. Buffers only grow, so a
// workspace reused from the pool makes a call allocation-free.
type workspace struct {
	aRaw, bRaw []float32
	a, b       []float32 // 64-byte aligned windows into aRaw and bRaw
	tile       []float32 // scratch tile for edge tiles
	cols       []float32 // a block of a ConvColumns, written row-major
	segs       []int32   // a ConvColumns A's runs of columns (directAMacro)
	taps       []int32   // and its rows' offsets in the images (taps, or pixels for its transpose)
	task       gemmTask  // a parallel call's parts (sgemmParallel)
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

// alignedFloats returns a 64-byte aligned slice of n floats, reusing raw when
// it is big enough.
func alignedFloats(raw *[]float32, n int) []float32 {
	const align = 16 // floats in 64 bytes
	if cap(*raw) < n+align {
		*raw = make([]float32, n+align)
	}
	r := (*raw)[:n+align]
	off := 0
	if mis := int(uintptr(unsafe.Pointer(&r[0])) % 64); mis != 0 {
		off = (64 - mis) / 4
	}
	return r[off : off+n : off+n]
}

// prepare sizes the workspace for kernel kn on a problem of the given size.
func (ws *workspace) prepare(kn *microKernel, m, n, k int) {
	kc := min(kn.kc, k)
	mc := min(kn.mc, roundUp(m, kn.mr))
	nc := min(kn.nc, roundUp(n, kn.nr))
	if len(ws.a) < mc*kc {
		ws.a = alignedFloats(&ws.aRaw, max(mc*kc, len(ws.a)))
	}
	if len(ws.b) < nc*kc {
		ws.b = alignedFloats(&ws.bRaw, max(nc*kc, len(ws.b)))
	}
	if len(ws.tile) < kn.mr*kn.nr {
		ws.tile = make([]float32, kn.mr*kn.nr)
	}
}

// prepareCols makes ws.cols at least n floats long.
func (ws *workspace) prepareCols(n int) {
	if len(ws.cols) < n {
		ws.cols = make([]float32, n)
	}
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// sgemmBlocked runs the whole of g on one goroutine with kernel kn. Every C
// element sees the same sequence of operations whatever the split of M and
// N into blocks, as long as splits fall on mr and nr boundaries: only the KC
// slicing of K changes rounding, and it depends on k alone.
func sgemmBlocked(kn *microKernel, ws *workspace, g *gemmArgs) {
	sgemmBlockedCols(kn, ws, g, nil, nil)
}

// sgemmBlockedCols is sgemmBlocked with A or B, where acols or bcols is
// set, read from a convolution's images (untransposed) instead of g.a or
// g.b. They travel beside g, not in it, so that they stay on the caller's
// stack: g's slices leak to the assembly.
func sgemmBlockedCols(kn *microKernel, ws *workspace, g *gemmArgs, acols, bcols *ConvColumns) {
	ws.prepare(kn, g.m, g.n, g.k)
	ncb := kn.nc
	colsDirect := false
	switch {
	case acols != nil:
		ws.prepareCols(min(kn.mc, roundUp(g.m, kn.mr)) * min(kn.kc, g.k))
	case bcols != nil:
		ncb, colsDirect = convBlockCols(kn, g.m, g.n, g.k)
		if colsDirect {
			ws.prepareCols(ncb * min(kn.kc, g.k))
		}
	}
	unpackedA := acols != nil && hasDirectA(kn) && (g.transA && acols.unpackedAT() || !g.transA && acols.unpackedA())
	switch {
	case acols != nil && g.transA && !unpackedA:
		panic("kernels: a transposed ConvColumns A without its in-place kernel")
	case unpackedA && g.transA:
		ws.taps = padRows(acols.pixelOffsets(ws.taps))
	case unpackedA:
		ws.taps = padRows(acols.TapOffsets(ws.taps))
	}
	direct := bcols == nil && !g.transB && g.m <= kn.directBMaxM && rowsSpreadInL2(g.ldb, min(g.k, kn.kc))
	for jc := 0; jc < g.n; jc += ncb {
		nc := min(ncb, g.n-jc)
		for pc := 0; pc < g.k; pc += kn.kc {
			kc := min(kn.kc, g.k-pc)
			bb := bBlock{packed: ws.b, nr: kn.nr, kc: kc}
			if colsDirect {
				// The block is written row-major and its full panels read
				// in place, as a materialised B would be.
				bcols.block(ws.cols, nc, pc, kc, jc, nc)
				bb.direct, bb.ldb, bb.full = ws.cols, nc, nc/kn.nr*kn.nr
				if bb.full < nc {
					packB(ws.b, false, ws.cols, nc, 0, bb.full, kc, nc-bb.full, kn.nr)
				}
			} else if bcols != nil {
				packConvB(ws.b, bcols, pc, jc, kc, nc, kn.nr)
			} else if direct {
				// Full panels are read in place; only the ragged last
				// panel is packed, with zero padding, at the start of ws.b.
				bb.direct = g.b[pc*g.ldb+jc:]
				bb.ldb = g.ldb
				bb.full = nc / kn.nr * kn.nr
				if bb.full < nc {
					packB(ws.b, false, g.b, g.ldb, pc, jc+bb.full, kc, nc-bb.full, kn.nr)
				}
			} else {
				packB(ws.b, g.transB, g.b, g.ldb, pc, jc, kc, nc, kn.nr)
			}
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			for ic := 0; ic < g.m; ic += kn.mc {
				mc := min(kn.mc, g.m-ic)
				if unpackedA {
					directAMacro(ws, acols, g.transA, &bb, ic, pc, mc, kc, nc, beta, g.c[ic*g.ldc+jc:], g.ldc)
					continue
				}
				if acols != nil {
					packConvA(ws, acols, ic, pc, mc, kc, kn.mr)
				} else {
					packA(ws.a, g.transA, g.a, g.lda, ic, pc, mc, kc, kn.mr)
				}
				macroKernel(kn, ws, &bb, mc, nc, g.alpha, beta, g.c[ic*g.ldc+jc:], g.ldc)
			}
		}
	}
}

// L2 geometry of Zen 4 and Zen 5 (1 MiB, 16 ways, 64-byte lines); other
// CPUs differ, but only rowsSpreadInL2's judgement of strides depends on it.
const (
	l2Sets = 1024
	l2Ways = 16
)

// rowsSpreadInL2 reports whether kc rows of a 32-wide B panel, ld floats
// apart, spread over enough L2 sets to stay cached while the micro-kernels
// reread them. A stride that is a multiple of 16 KiB (ld = 4096, say) piles
// every row into a few sets: B read in place then ran at ~110 GFLOPS
// against ~170 for a stride of 4128.
func rowsSpreadInL2(ld, kc int) bool {
	if 4*ld*kc <= l2Sets*64*l2Ways/4 {
		return true // the rows' whole span fits in a quarter of L2
	}
	var used [l2Sets / 64]uint64
	sets, lines := 0, 0
	for r := 0; r < kc; r++ {
		for line := r * ld * 4 / 64; line <= (r*ld*4+127)/64; line++ {
			lines++
			s := line % l2Sets
			if bit := uint64(1) << (s % 64); used[s/64]&bit == 0 {
				used[s/64] |= bit
				sets++
			}
		}
	}
	// Keep half the ways of the sets in play for other data.
	return sets*l2Ways >= 2*lines
}

// bBlock says where the micro-kernels find the current kc x nc block of B:
// packed in panels of nr columns, or, when direct is set, its first full
// columns read in place with stride ldb and the rest packed from panel 0.
type bBlock struct {
	packed []float32
	nr, kc int
	direct []float32
	ldb    int
	full   int
}

// panel returns the start and row stride of the B panel at column jr.
func (bb *bBlock) panel(jr int) (*float32, int) {
	if bb.direct == nil {
		return &bb.packed[jr*bb.kc], bb.nr
	}
	if jr < bb.full {
		// check proved B holds every full panel.
		return &bb.direct[jr], bb.ldb
	}
	return &bb.packed[(jr-bb.full)*bb.kc], bb.nr
}

// macroKernel multiplies a packed mc x kc block of A by a kc x nc block of
// B into C (already offset to the block's corner). Full tiles go straight
// to the micro-kernel; edge tiles go through ws.tile.
func macroKernel(kn *microKernel, ws *workspace, bb *bBlock, mc, nc int, alpha, beta float32, c []float32, ldc int) {
	mr, nr, kc := kn.mr, kn.nr, bb.kc
	for jr := 0; jr < nc; jr += nr {
		nrr := min(nr, nc-jr)
		bp, ldb := bb.panel(jr)
		for ir := 0; ir < mc; ir += mr {
			mrr := min(mr, mc-ir)
			ap := &ws.a[ir*kc]
			if mrr == mr && nrr == nr {
				// check proved C holds this whole tile.
				kn.fn(kc, ap, bp, &c[ir*ldc+jr], ldb, ldc, alpha, beta)
				continue
			}
			kn.fn(kc, ap, bp, &ws.tile[0], ldb, nr, alpha, 0)
			mergeTile(ws.tile, nr, mrr, nrr, beta, c[ir*ldc+jr:], ldc)
		}
	}
}

// mergeTile writes the top-left mrr x nrr corner of tile (alpha*A*B, row
// stride nr) into C as tile + beta*C.
func mergeTile(tile []float32, nr, mrr, nrr int, beta float32, c []float32, ldc int) {
	for i := 0; i < mrr; i++ {
		src := tile[i*nr : i*nr+nrr]
		dst := c[i*ldc : i*ldc+nrr]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = v + beta*dst[j]
		}
	}
}
