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
