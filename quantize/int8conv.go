package quantize

// This file holds the int8 run of a program. Activations between int8
// convolutions are kept channel-major over the batch, (C, N, H, W): the
// product's rows are output channels and its columns every pixel of the
// batch, so kernels.Int8GemmF32 writes that layout directly, scaled,
// biased and rectified, and max pooling works on its planes as on NCHW's.
// A convolution quantises its input once into channel-last offset bytes
// (the int8 value + 128) and gathers each output pixel's receptive field
// (whole rows of KW*C bytes where the window is inside the image) as one
// column. It leaves out fusing the pooling into the product.

import (
	"runtime"
	"sync"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// runInt8 runs n examples (N, C, H, W) through the int8 layers. Its
// intermediate buffers come from the program's arenas, reused across
// calls; the logits are a fresh slice.
func (p *program) runInt8(x []float32, n int) []float32 {
	a, _ := p.arenas.Get().(*arena)
	if a == nil {
		a = &arena{}
	}
	defer p.arenas.Put(a)
	x, c, h, w, cnhw := runInt8(a, p.layers, x, n, p.shape[0], p.shape[1], p.shape[2], false)
	if cnhw { // a program that ends in a convolution
		y := make([]float32, len(x))
		transposeInto(y, x, c, n, h*w)
		return y
	}
	return append([]float32(nil), x...)
}

// runInt8 runs layers over n examples (C, H, W), laid out (N, C, H, W) or,
// with cnhw, (C, N, H, W); it returns the output, its shape and layout.
func runInt8(a *arena, layers []*layer, x []float32, n, c, h, w int, cnhw bool) ([]float32, int, int, int, bool) {
	for i := 0; i < len(layers); i++ {
		switch l := layers[i]; l.kind {
		case "conv":
			oh, ow := l.outSize(h, w)
			if i+1 < len(layers) && l.poolsAfter(layers[i+1], oh, ow) {
				x = l.convInt8(a, l.id, x, n, c, h, w, oh, ow, cnhw, true)
				c, h, w, cnhw = l.out, oh/2, ow/2, true
				i++
				continue
			}
			x = l.convInt8(a, l.id, x, n, c, h, w, oh, ow, cnhw, false)
			c, h, w, cnhw = l.out, oh, ow, true
		case "linear":
			x = l.denseInt8(a, l.id, x, n)
		case "maxpool":
			oh, ow := (h-l.kh)/l.sh+1, (w-l.kw)/l.sw+1
			y := a.floats(l.id, n*c*oh*ow)
			maxPoolInto(y, a.ints(l.id, len(y)), x, n*c, h, w, oh, ow, l)
			x, h, w = y, oh, ow
		case "avgpool":
			y := a.floats(l.id, n*c)
			hw := h * w
			for img := range n {
				for ch := range c {
					plane := (img*c + ch) * hw
					if cnhw {
						plane = (ch*n + img) * hw
					}
					var s float32
					for _, v := range x[plane : plane+hw] {
						s += v
					}
					y[img*c+ch] = s / float32(hw)
				}
			}
			x, h, w, cnhw = y, 1, 1, false
		case "flatten":
			if cnhw {
				y := a.floats(l.id, len(x))
				transposeInto(y, x, c, n, h*w)
				x, cnhw = y, false
			}
			c, h, w = c*h*w, 1, 1
		case "residual":
			y, yc, yh, yw, ylay := runInt8(a, l.main, x, n, c, h, w, cnhw)
			sc, slay := x, cnhw
			if l.short != nil {
				sc, _, _, _, slay = runInt8(a, l.short, x, n, c, h, w, cnhw)
			}
			if slay != ylay { // an identity shortcut around a block that changed the layout
				t := grow(&a.t, l.id, len(sc))
				if slay {
					transposeInto(t, sc, yc, n, yh*yw)
				} else {
					transposeInto(t, sc, n, yc, yh*yw)
				}
				sc = t
			}
			out := a.floats(l.id, len(y))
			for i, v := range y {
				out[i] = max(v+sc[i], 0)
			}
			x, c, h, w, cnhw = out, yc, yh, yw, ylay
		}
	}
	return x, c, h, w, cnhw
}

// arena holds one int8 run's buffers, by layer; their contents are
// stale, and each user writes all of what it reads.
type arena struct {
	f    [][]float32
	t    [][]float32 // a second float buffer per layer (denseInt8's transposition)
	b    [][]uint8
	i    [][]int32
	cols []kernels.Int8Cols
}

// grow returns s[slot] with length n, reallocated only when too small.
func grow[T any](s *[][]T, slot, n int) []T {
	for len(*s) <= slot {
		*s = append(*s, nil)
	}
	if cap((*s)[slot]) < n {
		(*s)[slot] = make([]T, n)
	}
	return (*s)[slot][:n]
}

func (a *arena) floats(slot, n int) []float32 { return grow(&a.f, slot, n) }
func (a *arena) bytes(slot, n int) []uint8    { return grow(&a.b, slot, n) }
func (a *arena) ints(slot, n int) []int32     { return grow(&a.i, slot, n) }

func (a *arena) colsOf(slot int) *kernels.Int8Cols {
	for len(a.cols) <= slot {
		a.cols = append(a.cols, kernels.Int8Cols{})
	}
	return &a.cols[slot]
}

// transposeInto writes x, (A, B, S), as (B, A, S) into y.
func transposeInto(y, x []float32, a, b, s int) {
	for i := range a {
		for j := range b {
			copy(y[(j*a+i)*s:(j*a+i+1)*s], x[(i*b+j)*s:(i*b+j+1)*s])
		}
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

// pack packs a layer's int8 weights for the kernel (a convolution's with
// K in (KH, KW, C) order, the order of a channel-last receptive field) and
// sets its epilogue.
func (l *layer) pack() {
	l.epi = kernels.Int8Epilogue{Scale: make([]float32, l.out), Bias: make([]float32, l.out), ReLU: l.relu}
	for o := range l.out {
		l.epi.Scale[o] = l.xScale * l.wScale[o]
	}
	copy(l.epi.Bias, l.bias)
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

// denseInt8 is dense in int8 for n rows of K inputs.
func (l *layer) denseInt8(a *arena, slot int, x []float32, n int) []float32 {
	cols := a.colsOf(slot)
	cols.Reset(n, l.k)
	inv := 1 / l.xScale
	col := make([]uint8, l.k)
	for r := range n {
		for i, v := range x[r*l.k : (r+1)*l.k] {
			col[i] = offsetByte(v * inv)
		}
		cols.SetCol(r, col)
	}
	t := a.floats(slot, l.out*n)
	kernels.Int8GemmF32(l.packed, cols, l.epi, t, n)
	y := grow(&a.t, slot, l.out*n)
	transposeInto(y, t, l.out, n, 1)
	return y
}

// convInt8 is the int8 convolution of n images (C, H, W), laid out
// (N, C, H, W) or, with cnhw, (C, N, H, W); it returns (O, N, OH, OW), or
// with pool, the 2x2 max pooling of that, (O, N, OH/2, OW/2), computed in
// the product's epilogue (kernels.Int8GemmF32Pool).
func (l *layer) convInt8(a *arena, slot int, x []float32, n, c, h, w, oh, ow int, cnhw, pool bool) []float32 {
	pix, hw := oh*ow, h*w
	xq := a.bytes(slot, n*hw*c) // (N, H, W, C)
	cols := a.colsOf(slot)
	wins := n * pix / 4 // pooling windows
	column := func(img, oy, ox int) int { return img*pix + oy*ow + ox }
	if pool {
		cols.Reset((wins+7)/8*32, l.k)
		column = func(img, oy, ox int) int {
			win := (img*(oh/2)+oy/2)*(ow/2) + ox/2
			return win/8*32 + (oy%2*2+ox%2)*8 + win%8
		}
	} else {
		cols.Reset(n*pix, l.k)
	}
	parallel(n, func(img int) {
		inv := 1 / l.xScale
		qi := xq[img*hw*c : (img+1)*hw*c]
		for ch := range c {
			plane := (img*c + ch) * hw
			if cnhw {
				plane = (ch*n + img) * hw
			}
			for i, v := range x[plane : plane+hw] {
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
				cols.SetCol(column(img, oy, ox), col)
			}
		}
	})
	if pool {
		y := a.floats(slot, l.out*wins)
		kernels.Int8GemmF32Pool(l.packed, cols, l.epi, wins, y, wins)
		return y
	}
	y := a.floats(slot, l.out*n*pix)
	kernels.Int8GemmF32(l.packed, cols, l.epi, y, n*pix)
	return y
}

// poolsAfter reports whether next, the layer after convolution l with
// output oh x ow, is a 2x2 max pooling that its product can fold in.
func (l *layer) poolsAfter(next *layer, oh, ow int) bool {
	return next.kind == "maxpool" && next.kh == 2 && next.kw == 2 && next.sh == 2 && next.sw == 2 && next.ph == 0 && oh%2 == 0 && ow%2 == 0
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
