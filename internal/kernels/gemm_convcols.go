package kernels

// This file is the implicit-GEMM entry points: SGEMMs one of whose operands
// is a convolution's column matrix, packed panel by panel from the images
// (convcols.go) so that the whole matrix is never written. The blocked
// driver (gemm_block.go) is the same as Sgemm's, so the packed panels, and
// hence the bits of the product, are those of Sgemm on the materialised
// matrix. It leaves out threads: the convolution already runs one GEMM per
// goroutine.

import "fmt"

// convBlockFloats bounds a block of a ConvColumns B (kc x nc) packed into
// panels, and convDirectFloats one written row-major and read in place:
// small enough to stay in L2 between being written and being read by the
// micro-kernels, which is the point of reading the images directly.
// convDirect picks the row-major form where Sgemm would read a
// materialised B in place; it is a variable so that tests reach both.
var (
	convBlockFloats  = 1 << 14
	convDirectFloats = 1 << 16
	convDirect       = true
)

// SgemmConvB computes C = A*B on the calling goroutine, overwriting C, where
// B is the column matrix b describes (b.Rows() x b.Cols()) and A is m x
// b.Rows() with row stride lda. C is m x b.Cols() with row stride ldc. The
// result is the same to the bit as SgemmSerial(false, false, m, b.Cols(),
// b.Rows(), 1, a, lda, cols, ld, 0, c, ldc) on the materialised matrix cols.
func SgemmConvB(m int, a []float32, lda int, b *ConvColumns, c []float32, ldc int) {
	g := gemmArgs{m: m, n: b.Cols(), k: b.Rows(), alpha: 1, a: a, lda: lda, c: c, ldc: ldc}
	sgemmConv(activeKernel, &g, nil, b)
}

// SgemmConvA computes C = A*op(B) on the calling goroutine, overwriting C,
// where A is the column matrix a describes (a.Rows() x a.Cols()) and op(B)
// is a.Cols() x n, B stored transposed (n x a.Cols()) when transB is set,
// with row stride ldb. C is a.Rows() x n with row stride ldc. The result is
// the same to the bit as SgemmSerial on the materialised matrix.
func SgemmConvA(transB bool, n int, a *ConvColumns, b []float32, ldb int, c []float32, ldc int) {
	g := gemmArgs{transB: transB, m: a.Rows(), n: n, k: a.Cols(), alpha: 1, b: b, ldb: ldb, c: c, ldc: ldc}
	sgemmConv(activeKernel, &g, a, nil)
}

// SgemmConvAT computes C = A^T*B^T on the calling goroutine, overwriting
// C, where A is the column matrix a describes (a.Rows() x a.Cols()) and B
// is n x a.Rows() with row stride ldb: for a convolution, the output with
// pixels as rows, from the weights as they are stored. C is a.Cols() x n
// with row stride ldc. Each element is the sum over the taps that
// SgemmConvB forms for the transposed element, to the bit. It reads A in
// place and panics unless a.ReadsATInPlace().
func SgemmConvAT(n int, a *ConvColumns, b []float32, ldb int, c []float32, ldc int) {
	if !a.ReadsATInPlace() {
		panic(fmt.Sprintf("kernels: SgemmConvAT of %+v: padded, or no in-place kernel on this CPU", *a))
	}
	g := gemmArgs{transA: true, transB: true, m: a.Cols(), n: n, k: a.Rows(), alpha: 1, b: b, ldb: ldb, c: c, ldc: ldc}
	sgemmConv(activeKernel, &g, a, nil)
}

// sgemmConv checks g's sizes and the operand that is not a column matrix,
// then runs g with kernel kn on the calling goroutine.
func sgemmConv(kn *microKernel, g *gemmArgs, acols, bcols *ConvColumns) {
	if g.m < 0 || g.n < 0 {
		panic(fmt.Sprintf("kernels: SgemmConv: negative size m=%d n=%d", g.m, g.n))
	}
	if acols != nil {
		acols.check()
		br, bc := g.k, g.n
		if g.transB {
			br, bc = bc, br
		}
		checkMatrix("B", br, bc, g.b, g.ldb, g.m > 0 && g.n > 0)
	} else {
		bcols.check()
		checkMatrix("A", g.m, g.k, g.a, g.lda, g.m > 0 && g.n > 0)
	}
	checkMatrix("C", g.m, g.n, g.c, g.ldc, true)
	if g.m == 0 || g.n == 0 {
		return
	}
	ws := workspaces.Get().(*workspace)
	sgemmBlockedCols(kn, ws, g, acols, bcols)
	workspaces.Put(ws)
}

// convBlockCols is how many columns of a ConvColumns B one block holds
// (a multiple of nr, at least nr), and whether the block is written
// row-major and read in place rather than packed into panels.
func convBlockCols(kn *microKernel, m, n, k int) (nc int, direct bool) {
	kc := min(k, kn.kc)
	if convDirect && m <= kn.directBMaxM {
		return min(max(convDirectFloats/kc/kn.nr, 1)*kn.nr, roundUp(n, kn.nr)), true
	}
	return max(convBlockFloats/kc/kn.nr, 1) * kn.nr, false
}

// packConvB packs the kc x nc block at (p0, j0) of the column matrix b into
// dst as packB does: panel after panel of nr columns, the last one padded
// with zero columns.
func packConvB(dst []float32, b *ConvColumns, p0, j0, kc, nc, nr int) {
	for cb := 0; cb < nc; cb += nr {
		cols := min(nr, nc-cb)
		panel := dst[cb*kc : cb*kc+nr*kc]
		b.block(panel, nr, p0, kc, j0+cb, cols)
		zeroPad(panel, nr, cols, kc)
	}
}

// packConvA packs the mc x kc block at (i0, p0) of the column matrix a into
// ws.a as packA does. The block is first written row-major to ws.cols, an
// L2-sized scratch, because the panels want it transposed.
func packConvA(ws *workspace, a *ConvColumns, i0, p0, mc, kc, mr int) {
	a.block(ws.cols, kc, i0, mc, p0, kc)
	packA(ws.a, false, ws.cols, kc, 0, 0, mc, kc, mr)
}

// unpackedAT reports whether a GEMM may read the transpose of this column
// matrix as its A straight from the images: when no entry is padding. Its
// rows are pixels, each at any offset; its columns are taps, and runs of
// taps at consecutive offsets (along a kernel row, undilated) are read as
// runs.
func (g *ConvColumns) unpackedAT() bool { return g.PadH == 0 && g.PadW == 0 }

// unpackedA reports whether a GEMM may read this column matrix as its A
// straight from the images, with no packed panel (directATile): when no
// entry is padding and a run of output pixels along a row reads input
// floats 1 or 2 apart (the strides the kernels are made for).
func (g *ConvColumns) unpackedA() bool {
	return g.PadH == 0 && g.PadW == 0 && (g.StrideW == 1 || g.StrideW == 2)
}

// directAMacro is macroKernel for an A that the micro-kernel reads from
// the images (directATile): the column matrix, or its transpose when
// transA is set: rows [i0, i0+mc) and columns [p0, p0+kc) of the column
// matrix a times the kc x nc block of B, into C (already offset to the
// block's corner) as A*B + beta*C, beta 0 or 1. Each tile's FMAs are the
// packed kernel's, in the same order.
func directAMacro(ws *workspace, a *ConvColumns, transA bool, bb *bBlock, i0, p0, mc, kc, nc int, beta float32, c []float32, ldc int) {
	const mr, nr = 8, 32
	step := 1 // taps in a run are consecutive
	if transA {
		ws.segs = a.tapRuns(ws.segs[:0], p0, kc)
	} else {
		ws.segs = a.segments(ws.segs[:0], p0, kc)
		step = a.StrideW // so are a run's pixels' inputs, StrideW apart
	}
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		offs := ws.taps[i0+ir : i0+ir+mr]
		for jr := 0; jr < nc; jr += nr {
			bp, ldb := bb.panel(jr)
			m0, m1 := laneMasks(min(nr, nc-jr))
			directATile(&a.X[0], &offs[0], &ws.segs[0], len(ws.segs)/2, bp, ldb, &c[ir*ldc+jr], ldc, rows, m0, m1, beta, step)
		}
	}
}

// laneMasks returns the masks of the first n of 32 lanes, split into two
// 16-lane vectors.
func laneMasks(n int) (m0, m1 uint16) {
	return uint16(1<<min(n, 16) - 1), uint16(1<<max(n-16, 0) - 1)
}

// segments appends to dst, for columns [q0, q0+cols) of an unpadded
// column matrix, each run of columns along one output row as a pair: the
// offset in X of its first pixel's top-left tap, and its length.
func (g *ConvColumns) segments(dst []int32, q0, cols int) []int32 {
	ohw := g.OutH * g.OutW
	for q := q0; q < q0+cols; {
		n, rem := q/ohw, q%ohw
		oy, ox := rem/g.OutW, rem%g.OutW
		run := min(g.OutW-ox, q0+cols-q)
		dst = append(dst, int32(n*g.ImgStride+oy*g.StrideH*g.W+ox*g.StrideW), int32(run))
		q += run
	}
	return dst
}

// TapOffsets returns dst[:0] with, appended for each row (tap) of g's
// column matrix in order, its offset in X from a pixel's top-left tap
// (c*H*W + i*DilH*W + j*DilW for channel c, kernel row i and column j).
func (g *ConvColumns) TapOffsets(dst []int32) []int32 {
	dst = dst[:0]
	for r := range g.Rows() {
		dst = append(dst, g.tapOffset(r))
	}
	return dst
}

// tapOffset is row (tap) r's offset in X from a pixel's top-left tap.
func (g *ConvColumns) tapOffset(r int) int32 {
	khw := g.KH * g.KW
	c, k := r/khw, r%khw
	return int32(c*g.H*g.W + k/g.KW*g.DilH*g.W + k%g.KW*g.DilW)
}

// padRows appends zeros to offsets up to a whole number of tile rows.
func padRows(offsets []int32) []int32 {
	for len(offsets)%8 != 0 {
		offsets = append(offsets, 0)
	}
	return offsets
}

// pixelOffsets returns dst[:0] with, appended for each column (output
// pixel) of g's column matrix, the offset in X of its top-left tap.
func (g *ConvColumns) pixelOffsets(dst []int32) []int32 {
	dst = dst[:0]
	for n := range g.N {
		for oy := range g.OutH {
			for ox := range g.OutW {
				dst = append(dst, int32(n*g.ImgStride+oy*g.StrideH*g.W+ox*g.StrideW))
			}
		}
	}
	return dst
}

// tapRuns appends to dst, for rows (taps) [r0, r0+rows) of g's column
// matrix, each run of taps at consecutive offsets as a pair: the first
// one's offset from a pixel's top-left tap, and the run's length.
func (g *ConvColumns) tapRuns(dst []int32, r0, rows int) []int32 {
	for r := r0; r < r0+rows; r++ {
		off := g.tapOffset(r)
		if n := len(dst); n > 0 && dst[n-2]+dst[n-1] == off {
			dst[n-1]++
			continue
		}
		dst = append(dst, off, 1)
	}
	return dst
}

// ReadsATInPlace reports whether SgemmConvAT runs on g on this CPU: an
// unpadded column matrix, and the AVX-512 kernel.
func (g *ConvColumns) ReadsATInPlace() bool { return g.unpackedAT() && hasDirectA(activeKernel) }

// ReadsAInPlace reports whether SgemmConvA reads g straight from the
// images, with no packed A panels, on this CPU: an unpadded column matrix
// with a horizontal stride of 1 or 2, and the AVX-512 kernel.
func (g *ConvColumns) ReadsAInPlace() bool { return g.unpackedA() && hasDirectA(activeKernel) }
