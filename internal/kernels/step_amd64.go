//go:build amd64 && !purego

package kernels

// This file routes the training step's elementwise kernels to AVX-512
// assembly for whole 16-lane vectors and to the Go loops for the rest.

func reluMask(y, dy []float32) {
	n := 0
	if hasAVX512 {
		n = len(y) &^ 15
		reluMaskAVX512(y[:n], dy[:n])
	}
	reluMaskGo(y[n:], dy[n:])
}

func biasEpilogue(out, in []float32, b float32, relu bool) {
	n := 0
	if hasAVX512 {
		n = len(out) &^ 15
		biasEpilogueAVX512(out[:n], in[:n], b, relu)
	}
	biasEpilogueGo(out[n:], in[n:], b, relu)
}

func adamStep(mode AdamMode, p, g, m, v []float32, c *AdamCoef) {
	n := 0
	if hasAVX512 {
		n = len(p) &^ 15
		k := [9]float32{c.B1, c.B2, c.C1, c.C2, c.BC2Sqrt, c.NegStep, c.Eps, c.WD, c.Decay}
		switch mode {
		case AdamL2:
			adamL2AVX512(p[:n], g[:n], m[:n], v[:n], &k)
		case AdamDecoupled:
			adamDecoupledAVX512(p[:n], g[:n], m[:n], v[:n], &k)
		default:
			adamPlainAVX512(p[:n], g[:n], m[:n], v[:n], &k)
		}
	}
	adamStepGo(mode, p[n:], g[n:], m[n:], v[n:], c)
}

func maxPool2x2(x, y []float32, idx []int32, rows, planeRows, ow, w int) {
	if !hasAVX512 {
		maxPool2x2Go(x, y, idx, rows, planeRows, ow, w)
		return
	}
	m0, m1, mo := poolMasks(ow)
	maxPool2x2AVX512(x, y, idx, rows, planeRows, ow>>4, ow, m0, m1, mo, int32(w))
}

func maxPool2x2Back(dy []float32, idx []int32, dx []float32, rows, planeRows, ow, w int) {
	if !hasAVX512 {
		maxPool2x2BackGo(dy, idx, dx, rows, planeRows, ow, w)
		return
	}
	m0, m1, mo := poolMasks(ow)
	maxPool2x2BackAVX512(dy, idx, dx, rows, planeRows, ow>>4, ow, m0, m1, mo, int32(w))
}

// poolMasks are the lanes of the last, partial block of a 2x2 pooling row
// of ow outputs: of the two 16-float halves of its input (m0, m1) and of
// its outputs (mo).
func poolMasks(ow int) (m0, m1, mo uint16) {
	rem := ow & 15
	return uint16(1<<min(2*rem, 16) - 1), uint16(1<<max(2*rem-16, 0) - 1), uint16(1<<rem - 1)
}

func moveRows(dst, src []float32, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane int, add bool) {
	lanes := 16
	if !hasAVX512 {
		lanes = 8
	}
	if !hasAVX512 && !hasAVX2 || n == 0 || rows == 0 || planes == 0 {
		moveRowsGo(dst, src, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane, add)
		return
	}
	mode := rowsCopy
	switch {
	case add:
		mode = rowsAdd
	case 2*n >= lanes && n < lanes && rows > 1 && dstStride == n && srcStride >= n:
		// Each row but a plane's last is copied as a whole vector whose
		// spill, shorter than the row, lands in the next row's place
		// before that row is copied; the reads stay within the next
		// source row.
		mode = rowsRun
	}
	if hasAVX512 {
		rowsAVX512(dst, src, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane, mode)
	} else {
		rowsAVX2(dst, src, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane, mode)
	}
}

// The modes of rowsAVX512 (asm/simd.go's constants of the same names).
const (
	rowsCopy = iota
	rowsAdd
	rowsRun
)

func sgdStep(p, g, buf []float32, c *SGDCoef) {
	n := 0
	if hasAVX512 {
		n = len(p) &^ 15
		var flags uint8
		for bit, on := range []bool{c.WD != 0, c.Momentum != 0, c.First, c.Nesterov} {
			if on {
				flags |= 1 << bit
			}
		}
		k := [4]float32{c.LR, c.WD, c.Momentum, c.Damp}
		sgdAVX512(p[:n], g[:n], buf[:n], &k, flags)
	}
	sgdStepGo(p[n:], g[n:], buf[n:], c)
}

func bnNormalizeRun(dst, src []float32, mu, scale, shift float32) {
	n := 0
	if hasAVX512 {
		n = len(dst) &^ 15
		bnNormalizeAVX512(dst[:n], src[:n], mu, scale, shift)
	}
	bnNormalizeGo(dst[n:], src[n:], mu, scale, shift)
}

func bnInputGrad(out, x, dy []float32, mu, is, k, a, b float32, into bool) {
	n := 0
	if hasAVX512 {
		n = len(out) &^ 15
		if into {
			bnInputGradIntoAVX512(out[:n], x[:n], dy[:n], mu, is, k, a, b)
		} else {
			bnInputGradAVX512(out[:n], x[:n], dy[:n], mu, is, k, a, b)
		}
	}
	bnInputGradGo(out[n:], x[n:], dy[n:], mu, is, k, a, b, into)
}

// sums4Add adds the first elements of xs, a multiple of 4 of them, to s
// as sums4.add does, and returns how many.
func sums4Add(s *[4]float64, xs []float32) int {
	if !hasAVX2 {
		return 0
	}
	n := len(xs) &^ 3
	sums4AddAVX(s, xs[:n])
	return n
}

func sums4Squares(s *[4]float64, xs []float32, mean float64) int {
	if !hasAVX2 {
		return 0
	}
	n := len(xs) &^ 3
	sums4SquaresAVX(s, xs[:n], mean)
	return n
}

func gradSums4Vec(s, sx *[4]float64, xs, dy []float32, mu, is float32) int {
	if !hasAVX2 {
		return 0
	}
	n := len(xs) &^ 3
	gradSums4AVX(s, sx, xs[:n], dy[:n], mu, is)
	return n
}

func relu(dst, src []float32) {
	n := 0
	if hasAVX512 {
		n = len(dst) &^ 15
		reluAVX512(dst[:n], src[:n])
	}
	reluGo(dst[n:], src[n:])
}

func reluGrad(dx, dy, y []float32, into bool) {
	n := 0
	if hasAVX512 {
		n = len(dx) &^ 15
		if into {
			reluGradIntoAVX512(dx[:n], dy[:n], y[:n])
		} else {
			reluGradAddAVX512(dx[:n], dy[:n], y[:n])
		}
	}
	reluGradGo(dx[n:], dy[n:], y[n:], into)
}
