package autograd

// 2-D upsampling (F.interpolate on NCHW inputs) in nearest and bilinear
// modes, with PyTorch 1.13's index arithmetic in float32 so that the chosen
// source pixels agree with PyTorch's even for fractional scales. This file
// leaves out the other modes (nearest-exact, bicubic, area, antialiasing),
// 1-D and 3-D inputs, and recompute_scale_factor=True (which is the same as
// passing the size it computes).

import (
	"fmt"
	"math"
)

// UpsampleMode is the interpolation of Upsample.
type UpsampleMode int

// The modes, PyTorch's mode='nearest' and mode='bilinear'.
const (
	UpsampleNearest UpsampleMode = iota
	UpsampleBilinear
)

// UpsampleOptions set Upsample's output size, as (height, width) pairs:
// either Size, or Scale factors (the output is floor(in*scale) and the scale
// itself, not the rounded size, places the samples, as PyTorch does when
// scale_factor is given). AlignCorners is bilinear's align_corners.
type UpsampleOptions struct {
	Mode         UpsampleMode
	Size         [2]int
	Scale        [2]float64
	AlignCorners bool
}

// outSize resolves the output size of an h x w input, or reports why the
// options are wrong.
func (o UpsampleOptions) outSize(h, w int) ([2]int, error) {
	in := [2]int{h, w}
	if o.Mode != UpsampleNearest && o.Mode != UpsampleBilinear {
		return [2]int{}, fmt.Errorf("autograd: upsample: unknown mode %d", o.Mode)
	}
	if o.AlignCorners && o.Mode == UpsampleNearest {
		return [2]int{}, fmt.Errorf("autograd: upsample: align_corners needs bilinear mode")
	}
	sized := o.Size != [2]int{}
	scaled := o.Scale != [2]float64{}
	if sized == scaled {
		return [2]int{}, fmt.Errorf("autograd: upsample: give exactly one of Size %v and Scale %v", o.Size, o.Scale)
	}
	var out [2]int
	for i := range 2 {
		if sized {
			out[i] = o.Size[i]
		} else {
			s := o.Scale[i]
			if !(s > 0) || math.IsInf(s, 0) {
				return [2]int{}, fmt.Errorf("autograd: upsample: scale %v, want positive and finite", o.Scale)
			}
			out[i] = int(math.Floor(float64(in[i]) * s))
		}
		if out[i] < 1 || out[i] > 1<<24 {
			return [2]int{}, fmt.Errorf("autograd: upsample: output size %v from input %dx%d", out, h, w)
		}
	}
	return out, nil
}

// ratio is PyTorch's area_pixel_compute_scale in float32: how far one output
// step moves in the input.
func (o UpsampleOptions) ratio(axis, in, out int) float32 {
	if o.AlignCorners {
		if out > 1 {
			return float32(in-1) / float32(out-1)
		}
		return 0
	}
	if s := o.Scale[axis]; s > 0 {
		return float32(1 / s)
	}
	return float32(in) / float32(out)
}

// upsampleAxis is one axis's interpolation: output position i reads input
// positions i0[i] and i0[i]+step[i] with weights 1-l1[i] and l1[i] (nearest
// mode uses i0 alone).
type upsampleAxis struct {
	i0, step []int32
	l1       []float32
}

// axis fills the interpolation table of one axis from tape-owned buffers.
func (g *Tape) upsampleAxis(mode UpsampleMode, align bool, ratio float32, in, out int) upsampleAxis {
	a := upsampleAxis{i0: g.ints(out)}
	if mode == UpsampleNearest {
		for i := range out {
			switch {
			case out == in:
				a.i0[i] = int32(i)
			case out == 2*in:
				a.i0[i] = int32(i >> 1)
			default:
				a.i0[i] = int32(min(int(math.Floor(float64(float32(i)*ratio))), in-1))
			}
		}
		return a
	}
	a.step, a.l1 = g.ints(out), g.floats.get(out)
	for i := range out {
		var src float32
		if align {
			src = ratio * float32(i)
		} else {
			src = max(ratio*(float32(i)+0.5)-0.5, 0)
		}
		i0 := min(int(src), in-1)
		a.i0[i] = int32(i0)
		a.l1[i] = min(max(src-float32(i0), 0), 1)
		if i0 < in-1 {
			a.step[i] = 1
		} else {
			a.step[i] = 0
		}
	}
	return a
}

// Upsample resizes x (N, C, H, W) to (N, C, OH, OW), like F.interpolate
// (and nn.Upsample) in nearest or bilinear mode.
func (g *Tape) Upsample(x *Var, o UpsampleOptions) *Var {
	n, c, h, w := nchw("upsample", x)
	out, err := o.outSize(h, w)
	if err != nil {
		panic(fmt.Sprintf("%v (input %v)", err, x.Shape()))
	}
	y := g.newVar(opUpsample, []int{n, c, out[0], out[1]}, x)
	rh, rw := o.ratio(0, h, out[0]), o.ratio(1, w, out[1])
	y.fl = [2]float32{rh, rw}
	y.ints[0] = int(o.Mode)
	if o.AlignCorners {
		y.ints[1] = 1
	}
	ah := g.upsampleAxis(o.Mode, o.AlignCorners, rh, h, out[0])
	aw := g.upsampleAxis(o.Mode, o.AlignCorners, rw, w, out[1])
	upsamplePlanes(x.Data(), y.Data(), n*c, h, w, ah, aw, false)
	return y
}

func upsampleBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	_, _, h, w := nchw("upsample", x)
	oh, ow := n.value.Dim(2), n.value.Dim(3)
	mode, align := UpsampleMode(n.ints[0]), n.ints[1] == 1
	ah := g.upsampleAxis(mode, align, n.fl[0], h, oh)
	aw := g.upsampleAxis(mode, align, n.fl[1], w, ow)
	upsamplePlanes(g.gradOf(x).Data(), n.grad.Data(), x.value.Dim(0)*x.value.Dim(1), h, w, ah, aw, true)
}

// upsamplePlanes runs the interpolation over planes input planes of h x w
// values in x and output planes in y. Forward (back false) overwrites y;
// backward accumulates y's gradient into x through the same weights.
func upsamplePlanes(x, y []float32, planes, h, w int, ah, aw upsampleAxis, back bool) {
	oh, ow := len(ah.i0), len(aw.i0)
	for p := range planes {
		xp := x[p*h*w : (p+1)*h*w]
		yp := y[p*oh*ow : (p+1)*oh*ow]
		for i := range oh {
			yr := yp[i*ow : (i+1)*ow]
			r0 := xp[int(ah.i0[i])*w:]
			if ah.l1 == nil {
				if back {
					for j, v := range yr {
						r0[aw.i0[j]] += v
					}
				} else {
					for j := range yr {
						yr[j] = r0[aw.i0[j]]
					}
				}
				continue
			}
			r1 := xp[(int(ah.i0[i])+int(ah.step[i]))*w:]
			h1 := ah.l1[i]
			h0 := 1 - h1
			for j := range yr {
				c0 := int(aw.i0[j])
				c1 := c0 + int(aw.step[j])
				w1 := aw.l1[j]
				w0 := 1 - w1
				if back {
					v := yr[j]
					r0[c0] += h0 * w0 * v
					r0[c1] += h0 * w1 * v
					r1[c0] += h1 * w0 * v
					r1[c1] += h1 * w1 * v
				} else {
					yr[j] = h0*(w0*r0[c0]+w1*r0[c1]) + h1*(w0*r1[c0]+w1*r1[c1])
				}
			}
		}
	}
}
