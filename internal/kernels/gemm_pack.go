package kernels

// This file packs blocks of A and B into the panel layout the micro-kernels
// stream through. Rows and columns past the edge of the matrix are padded
// with zeros so that kernels only ever see full tiles. It leaves out alpha:
// the kernels apply it once per tile.

// packA packs the mc x kc block of op(A) at (i0, p0) into dst as panels of
// mr rows: panel r holds, for each p, the mr values op(A)[i0+r*mr+ii][p0+p].
func packA(dst []float32, trans bool, a []float32, lda, i0, p0, mc, kc, mr int) {
	for r := 0; r < mc; r += mr {
		rows := min(mr, mc-r)
		panel := dst[r*kc : r*kc+mr*kc]
		if trans {
			// op(A)[i][p] = a[p*lda+i]: each p is a contiguous run of rows.
			for p := 0; p < kc; p++ {
				d := panel[p*mr : p*mr+mr]
				base := (p0+p)*lda + i0 + r
				copy(d, a[base:base+rows])
				clear(d[rows:])
			}
			continue
		}
		// op(A)[i][p] = a[i*lda+p]: read each row once, scatter with stride mr.
		for ii := 0; ii < rows; ii++ {
			base := (i0+r+ii)*lda + p0
			src := a[base : base+kc]
			d := panel[ii:]
			for p, v := range src {
				d[p*mr] = v
			}
		}
		if rows < mr {
			for p := 0; p < kc; p++ {
				clear(panel[p*mr+rows : p*mr+mr])
			}
		}
	}
}

// packB packs the kc x nc block of op(B) at (p0, j0) into dst as panels of
// nr columns: panel c holds, for each p, the nr values op(B)[p0+p][j0+c*nr+jj].
func packB(dst []float32, trans bool, b []float32, ldb, p0, j0, kc, nc, nr int) {
	for cb := 0; cb < nc; cb += nr {
		cols := min(nr, nc-cb)
		panel := dst[cb*kc : cb*kc+nr*kc]
		if !trans {
			// op(B)[p][j] = b[p*ldb+j]: each p is a contiguous run of columns.
			for p := 0; p < kc; p++ {
				d := panel[p*nr : p*nr+nr]
				base := (p0+p)*ldb + j0 + cb
				copy(d, b[base:base+cols])
				clear(d[cols:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: read each column of op(B) as a row of b.
		for jj := 0; jj < cols; jj++ {
			base := (j0+cb+jj)*ldb + p0
			src := b[base : base+kc]
			d := panel[jj:]
			for p, v := range src {
				d[p*nr] = v
			}
		}
		if cols < nr {
			for p := 0; p < kc; p++ {
				clear(panel[p*nr+cols : p*nr+nr])
			}
		}
	}
}
