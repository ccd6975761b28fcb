//go:build !amd64 || purego

package kernels

// This file routes the training step's elementwise kernels to the Go loops
// where there is no assembly.

func reluMask(y, dy []float32) { reluMaskGo(y, dy) }

func biasEpilogue(out, in []float32, b float32, relu bool) { biasEpilogueGo(out, in, b, relu) }

func adamStep(mode AdamMode, p, g, m, v []float32, c *AdamCoef) { adamStepGo(mode, p, g, m, v, c) }

func maxPool2x2(x, y []float32, idx []int32, rows, planeRows, ow, w int) {
	maxPool2x2Go(x, y, idx, rows, planeRows, ow, w)
}

func maxPool2x2Back(dy []float32, idx []int32, dx []float32, rows, planeRows, ow, w int) {
	maxPool2x2BackGo(dy, idx, dx, rows, planeRows, ow, w)
}

func moveRows(dst, src []float32, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane int, add bool) {
	moveRowsGo(dst, src, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane, add)
}

func sgdStep(p, g, buf []float32, c *SGDCoef) { sgdStepGo(p, g, buf, c) }

func bnNormalizeRun(dst, src []float32, mu, scale, shift float32) {
	bnNormalizeGo(dst, src, mu, scale, shift)
}

func bnInputGrad(out, x, dy []float32, mu, is, k, a, b float32, into bool) {
	bnInputGradGo(out, x, dy, mu, is, k, a, b, into)
}

func sums4Add(*[4]float64, []float32) int { return 0 }

func sums4Squares(*[4]float64, []float32, float64) int { return 0 }

func gradSums4Vec(_, _ *[4]float64, _, _ []float32, _, _ float32) int { return 0 }

func relu(dst, src []float32) { reluGo(dst, src) }

func reluGrad(dx, dy, y []float32, into bool) { reluGradGo(dx, dy, y, into) }
