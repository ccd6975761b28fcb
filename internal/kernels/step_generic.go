package kernels

// This file is the portable version of the training step's elementwise
// kernels (step.go), and the tails of the assembly ones. Every choice is
// a mask: branches on activations mispredict half the time.

import "math"

func reluMaskGo(y, dy []float32) {
	dy = dy[:len(y)]
	for i, v := range y {
		// y > 0 (not zero, negative or NaN) keeps the gradient.
		b := math.Float32bits(v)
		keep := ^uint32(int32(b-1)>>31) & ^uint32(int32(0x7f800000-b)>>31)
		dy[i] = math.Float32frombits(math.Float32bits(dy[i]) & keep)
	}
}

func biasEpilogueGo(out, in []float32, b float32, relu bool) {
	in = in[:len(out)]
	if relu {
		for i, v := range in {
			// max(v+b, 0), keeping a NaN's own bits as the assembly
			// does: positive sums and NaNs pass, the rest become +0.
			s := math.Float32bits(v + b)
			pos := uint32((0 - int64(int32(s))) >> 63)
			nan := uint32((0x7f800000 - int64(s&0x7fffffff)) >> 63)
			out[i] = math.Float32frombits(s & (pos | nan))
		}
		return
	}
	for i, v := range in {
		out[i] = v + b
	}
}

func adamStepGo(mode AdamMode, p, g, m, v []float32, c *AdamCoef) {
	adamStepFull(mode, p, g, m, v, nil, c) // update.go: one loop for every option
}

// gt returns all ones when a > b and zero otherwise, without a branch; the
// keys span more than half of int32, so the difference is taken in int64.
func gt(a, b int32) uint32 { return uint32((int64(b) - int64(a)) >> 63) }

func maxPool2x2Go(x, y []float32, idx []int32, rows, planeRows, ow, w int) {
	for i := range rows {
		r0 := x[2*i*w : 2*i*w+2*ow]
		r1 := x[(2*i+1)*w : (2*i+1)*w+2*ow]
		maxPool2x2RowGo(r0, r1, y[i*ow:(i+1)*ow], idx[i*ow:(i+1)*ow], int32(2*(i%planeRows)*w), int32(w))
	}
}

func maxPool2x2RowGo(r0, r1, yr []float32, ir []int32, base, w int32) {
	r0 = r0[:2*len(yr)]
	r1 = r1[:2*len(yr)]
	ir = ir[:len(yr)]
	for j := range yr {
		// The maximum with ties to the earliest tap is associative, so the
		// two rows are reduced separately, then against each other.
		a, b := math.Float32bits(r0[2*j]), math.Float32bits(r0[2*j+1])
		ka, kb := MaxKey(a, 0), MaxKey(b, 1)
		m := gt(kb, ka)
		top, topKey, topOff := a^(a^b)&m, ka^(ka^kb)&int32(m), int32(m&1)
		c, d := math.Float32bits(r1[2*j]), math.Float32bits(r1[2*j+1])
		kc, kd := MaxKey(c, 2), MaxKey(d, 3)
		m = gt(kd, kc)
		bot, botKey, botOff := c^(c^d)&m, kc^(kc^kd)&int32(m), w+int32(m&1)
		m = gt(botKey, topKey)
		yr[j] = math.Float32frombits(top ^ (top^bot)&m)
		ir[j] = base + int32(2*j) + (topOff ^ (topOff^botOff)&int32(m))
	}
}

func maxPool2x2BackGo(dy []float32, idx []int32, dx []float32, rows, planeRows, ow, w int) {
	for i := range rows {
		r0, r1 := dx[2*i*w:2*i*w+2*ow], dx[(2*i+1)*w:(2*i+1)*w+2*ow]
		clear(r0)
		clear(r1)
		base := 2 * (i % planeRows) * w
		for j, g := range dy[i*ow : (i+1)*ow] {
			switch int(idx[i*ow+j]) - base - 2*j {
			case 0:
				r0[2*j] += g
			case 1:
				r0[2*j+1] += g
			case w:
				r1[2*j] += g
			case w + 1:
				r1[2*j+1] += g
			}
		}
	}
}

func moveRowsGo(dst, src []float32, n, rows, dstStride, srcStride, planes, dstPlane, srcPlane int, add bool) {
	for q := range planes {
		for r := range rows {
			do, so := q*dstPlane+r*dstStride, q*srcPlane+r*srcStride
			d, s := dst[do:do+n], src[so:so+n]
			if !add {
				copy(d, s)
				continue
			}
			for i, v := range s {
				d[i] += v
			}
		}
	}
}

func sgdStepGo(p, g, buf []float32, c *SGDCoef) {
	g, buf = g[:len(p)], buf[:len(p)]
	for i, gi := range g {
		if c.Maximize {
			gi = -gi
		}
		if c.WD != 0 {
			gi += c.WD * p[i]
		}
		if c.Momentum != 0 {
			if c.First {
				buf[i] = gi
			} else {
				buf[i] = c.Momentum*buf[i] + c.Damp*gi
			}
			if c.Nesterov {
				gi += c.Momentum * buf[i]
			} else {
				gi = buf[i]
			}
		}
		p[i] -= c.LR * gi
	}
}
