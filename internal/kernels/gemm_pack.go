package kernels

// This file packs blocks of A and B into the panel layout the micro-kernels
// stream through. Rows and columns past the edge of the matrix are padded
// with zeros so that kernels only ever see full tiles. It leaves out alpha:
// the kernels apply it once per tile.

// transpose8x8 is an optional assembly routine: it transposes n 8x8 blocks,
// block q taking columns 8q..8q+7 of the 8 rows at src+r*lds and writing
// them as rows 8q..8q+7 at dst+row*ldd. Nil where there is no assembly.
var transpose8x8 func(n int, src *float32, lds int, dst *float32, ldd int)

// packA packs the mc x kc block of op(A) at (i0, p0) into dst as panels of
// mr rows: panel r holds, for each p, the mr values op(A)[i0+r*mr+ii][p0+p].
func packA(dst []float32, trans bool, a []float32, lda, i0, p0, mc, kc, mr int) {
	for r := 0; r < mc; r += mr {
		rows := min(mr, mc-r)
		panel := dst[r*kc : r*kc+mr*kc]
		if trans {
			// op(A)[i][p] = a[p*lda+i]: each p is a contiguous run of rows.
			copyRuns(panel, mr, a[p0*lda+i0+r:], lda, rows, kc)
		} else {
			// op(A)[i][p] = a[i*lda+p]: each row becomes a column of the panel.
			gatherColumns(panel, mr, a[(i0+r)*lda+p0:], lda, rows, kc)
		}
		zeroPad(panel, mr, rows, kc)
	}
}

// packB packs the kc x nc block of op(B) at (p0, j0) into dst as panels of
// nr columns: panel c holds, for each p, the nr values op(B)[p0+p][j0+c*nr+jj].
func packB(dst []float32, trans bool, b []float32, ldb, p0, j0, kc, nc, nr int) {
	if !trans {
		// op(B)[p][j] = b[p*ldb+j]: walk each row of b once, end to end,
		// dealing nr-wide runs out to the panels. Walking panel by panel
		// instead rereads every row nc/nr times, which thrashes the cache
		// when ldb is near a multiple of 4 KiB.
		full := nc / nr * nr
		for p := 0; p < kc; p++ {
			row := b[(p0+p)*ldb+j0 : (p0+p)*ldb+j0+nc]
			for cb := 0; cb < full; cb += nr {
				copy(dst[cb*kc+p*nr:cb*kc+p*nr+nr], row[cb:cb+nr])
			}
		}
		if full < nc {
			panel := dst[full*kc : full*kc+nr*kc]
			copyRuns(panel, nr, b[p0*ldb+j0+full:], ldb, nc-full, kc)
			zeroPad(panel, nr, nc-full, kc)
		}
		return
	}
	for cb := 0; cb < nc; cb += nr {
		cols := min(nr, nc-cb)
		panel := dst[cb*kc : cb*kc+nr*kc]
		// op(B)[p][j] = b[j*ldb+p]: each row of b becomes a panel column.
		gatherColumns(panel, nr, b[(j0+cb)*ldb+p0:], ldb, cols, kc)
		zeroPad(panel, nr, cols, kc)
	}
}

// copyRuns sets dst[p*ldd+r] = src[p*lds+r] for r < width, p < kc.
func copyRuns(dst []float32, ldd int, src []float32, lds, width, kc int) {
	if width == 8 && ldd == 8 {
		for p := 0; p < kc; p++ {
			*(*[8]float32)(dst[p*8:]) = *(*[8]float32)(src[p*lds:])
		}
		return
	}
	for p := 0; p < kc; p++ {
		copy(dst[p*ldd:p*ldd+width], src[p*lds:p*lds+width])
	}
}

// gatherColumns sets dst[p*ldd+r] = src[r*lds+p] for r < rows, p < kc: row r
// of src becomes column r of dst. Groups of 8 rows go through transpose8x8
// when it exists.
func gatherColumns(dst []float32, ldd int, src []float32, lds, rows, kc int) {
	r := 0
	if k8 := kc &^ 7; transpose8x8 != nil && k8 > 0 {
		for ; r+8 <= rows; r += 8 {
			// Prove to ourselves, as the assembly cannot, that both ends fit.
			_ = src[(r+7)*lds+k8-1]
			_ = dst[(k8-1)*ldd+r+7]
			transpose8x8(k8/8, &src[r*lds], lds, &dst[r], ldd)
		}
		for rr := 0; rr < r && k8 < kc; rr++ {
			d := dst[k8*ldd+rr:]
			for p, v := range src[rr*lds+k8 : rr*lds+kc] {
				d[p*ldd] = v
			}
		}
	}
	for ; r < rows; r++ {
		d := dst[r:]
		for p, v := range src[r*lds : r*lds+kc] {
			d[p*ldd] = v
		}
	}
}

// zeroPad clears columns width..ldd-1 of the kc rows of a panel.
func zeroPad(panel []float32, ldd, width, kc int) {
	if width == ldd {
		return
	}
	for p := 0; p < kc; p++ {
		clear(panel[p*ldd+width : p*ldd+ldd])
	}
}

// Transpose writes the rows x cols matrix src (row stride lds) into dst
// transposed: dst[j*ldd+i] = src[i*lds+j]. It panics when a slice is too
// short for its matrix.
func Transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	checkMatrix("src", rows, cols, src, lds, true)
	checkMatrix("dst", cols, rows, dst, ldd, true)
	gatherColumns(dst, ldd, src, lds, rows, cols)
}
