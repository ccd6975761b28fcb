package quantize

// This file holds the int8 convolution: the batch's inputs quantised once
// into channel-last offset bytes (the int8 value + 128), each output
// pixel's receptive field gathered as one column of the product (whole
// rows of KW*C bytes where the window is inside the image), one
// kernels.Int8Gemm for the whole batch, and the int32 sums scaled back to
// float32 NCHW. It leaves out fusing the pooling that follows.

import (
	"runtime"
	"sync"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// offsetBytes writes round(x/scale) clamped to ±127, plus 128, into q:
// quantizeInto's values as the kernel's offset bytes.
func offsetBytes(q []uint8, x []float32, scale float32) {
	inv := 1 / scale
	for i, v := range x {
		q[i] = offsetByte(v * inv)
	}
}

// offsetByte rounds f half away from zero (as math.Round), clamps it to
// ±127 and adds 128.
func offsetByte(f float32) uint8 {
	r := float64(f)
	if r >= 0 {
		r = min(r+0.5, 127)
	} else {
		r = max(r-0.5, -127)
	}
	return uint8(int32(r) + 128)
}

// pack packs a layer's int8 weights for the kernel: a convolution's with
// K in (KH, KW, C) order, the order of a channel-last receptive field.
func (l *layer) pack() {
	if l.kind == "linear" {
		l.packed = kernels.PackInt8(l.out, l.k, l.q)
		return
	}
	c := l.k / (l.kh * l.kw)
	re := make([]int8, len(l.q))
	for o := range l.out {
		for ch := range c {
			for ky := range l.kh {
				for kx := range l.kw {
					re[o*l.k+(ky*l.kw+kx)*c+ch] = l.q[o*l.k+(ch*l.kh+ky)*l.kw+kx]
				}
			}
		}
	}
	l.packed = kernels.PackInt8(l.out, l.k, re)
}

// convolveInt8 is convolve in int8 for n images (C, H, W).
func (l *layer) convolveInt8(x []float32, n, c, h, w, oh, ow int) []float32 {
	pix := oh * ow
	xq := make([]uint8, n*h*w*c) // (N, H, W, C)
	var cols kernels.Int8Cols
	cols.Reset(n*pix, l.k)
	parallel(n, func(img int) {
		inv := 1 / l.xScale
		xi, qi := x[img*c*h*w:(img+1)*c*h*w], xq[img*h*w*c:(img+1)*h*w*c]
		for ch := range c {
			for i, v := range xi[ch*h*w : (ch+1)*h*w] {
				qi[i*c+ch] = offsetByte(v * inv)
			}
		}
		col := make([]uint8, l.k)
		row := l.kw * c
		for oy := range oh {
			for ox := range ow {
				x0 := ox*l.sw - l.pw
				for ky := range l.kh {
					dst := col[ky*row : (ky+1)*row]
					yy := oy*l.sh + ky - l.ph
					switch {
					case yy < 0 || yy >= h:
						fill(dst, 128)
					case x0 >= 0 && x0+l.kw <= w:
						copy(dst, qi[(yy*w+x0)*c:])
					default:
						for kx := range l.kw {
							if xx := x0 + kx; xx < 0 || xx >= w {
								fill(dst[kx*c:(kx+1)*c], 128)
							} else {
								copy(dst[kx*c:(kx+1)*c], qi[(yy*w+xx)*c:])
							}
						}
					}
				}
				cols.SetCol(img*pix+oy*ow+ox, col)
			}
		}
	})
	acc := make([]int32, l.out*n*pix)
	kernels.Int8Gemm(l.packed, &cols, acc, n*pix)
	y := make([]float32, n*l.out*pix)
	parallel(l.out, func(o int) {
		s := l.xScale * l.wScale[o]
		row := acc[o*n*pix : (o+1)*n*pix]
		for img := range n {
			dst := y[(img*l.out+o)*pix : (img*l.out+o+1)*pix]
			for j, v := range row[img*pix : (img+1)*pix] {
				dst[j] = l.finish(o, float32(v)*s)
			}
		}
	})
	return y
}

// fill sets every byte of b to v.
func fill(b []uint8, v uint8) {
	for i := range b {
		b[i] = v
	}
}

// parallel runs f(0) to f(n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}
