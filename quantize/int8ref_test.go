package quantize

import (
	"math"
	"testing"
)

// refInt8 is the int8 run written plainly: NCHW throughout, inputs
// quantised with quantizeInto, sums in int64 over the float weights'
// order, the epilogue as kernels.Int8Epilogue states it.
func refInt8(p *program, x []float32, n int) []float32 {
	x, _, _, _ = refLayers(p.layers, x, n, p.shape[0], p.shape[1], p.shape[2])
	return x
}

func refLayers(layers []*layer, x []float32, n, c, h, w int) ([]float32, int, int, int) {
	for _, l := range layers {
		switch l.kind {
		case "conv", "linear":
			oh, ow := 1, 1
			if l.kind == "conv" {
				oh, ow = l.outSize(h, w)
			}
			pix := oh * ow
			q := make([]int8, len(x))
			quantizeInto(q, x, l.xScale)
			qf := make([]float32, len(q))
			for i, v := range q {
				qf[i] = float32(v)
			}
			y := make([]float32, n*l.out*pix)
			col := make([]float32, pix*l.k)
			for img := range n {
				if l.kind == "conv" {
					patches(col, qf[img*c*h*w:(img+1)*c*h*w], c, h, w, oh, ow, l)
				} else {
					copy(col, qf[img*l.k:(img+1)*l.k])
				}
				for o := range l.out {
					for j := range pix {
						var sum int64
						for k := range l.k {
							sum += int64(l.q[o*l.k+k]) * int64(col[j*l.k+k])
						}
						v := float32(float32(sum)*l.epi.Scale[o]) + l.epi.Bias[o]
						if l.relu {
							v = max(v, 0)
						}
						y[(img*l.out+o)*pix+j] = v
					}
				}
			}
			x, c, h, w = y, l.out, oh, ow
		case "maxpool":
			oh, ow := (h-l.kh)/l.sh+1, (w-l.kw)/l.sw+1
			x = maxPool(x, n*c, h, w, oh, ow, l)
			h, w = oh, ow
		case "avgpool":
			x, h, w = avgPool(x, n*c, h*w), 1, 1
		case "flatten":
			c, h, w = c*h*w, 1, 1
		case "residual":
			y, yc, yh, yw := refLayers(l.main, x, n, c, h, w)
			sc := x
			if l.short != nil {
				sc, _, _, _ = refLayers(l.short, x, n, c, h, w)
			}
			for i := range y {
				y[i] = max(y[i]+sc[i], 0)
			}
			x, c, h, w = y, yc, yh, yw
		}
	}
	return x, c, h, w
}

// TestInt8MatchesReference requires the int8 run (packed, channel-last,
// the VNNI kernel where the CPU has one) to give the plain int8
// computation's bits, for every architecture, with padding (lenet5).
func TestInt8MatchesReference(t *testing.T) {
	for _, name := range archs {
		m := zoo(t, name)
		q, err := Quantize(m, []int{1, 28, 28}, inputs(16, 6), 16)
		if err != nil {
			t.Fatal(err)
		}
		x := inputs(37, 7) // not a multiple of 32 columns
		got, want := q.prog.runInt8(x, 37), refInt8(q.prog, x, 37)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: logit %d = %g, the plain int8 computation gives %g", name, i, got[i], want[i])
			}
		}
	}
}
