package transform

// This file holds Rotate and RandomRotation. It leaves out torchvision's
// expand and center options: expand makes the output size depend on the
// angle, which a fixed-shape dataset cannot use.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Rotate turns m counter-clockwise by angle degrees about its centre, as
// torchvision's F.rotate on a PIL image (PIL's Image.rotate with
// expand=False): the output keeps m's size and pixels mapped from outside m
// take the fill colour. Nearest is the default interpolation.
func Rotate(m *Image, angle float64, interp Interpolation, fill []uint8) *Image {
	angle = math.Mod(angle, 360)
	if angle < 0 {
		angle += 360
	}
	switch {
	case angle == 0:
		return m.Clone()
	case angle == 180:
		return VFlip(HFlip(m.Clone()))
	case (angle == 90 || angle == 270) && m.W == m.H:
		return rotate90(m, angle == 90)
	}
	degToRad := math.Pi
	degToRad /= 180
	rad := -(angle * degToRad)
	cos, sin := round15(math.Cos(rad)), round15(math.Sin(rad))
	a := [6]float64{cos, sin, 0, round15(-math.Sin(rad)), cos, 0}
	cx, cy := float64(m.W)/2, float64(m.H)/2
	a[2] = a[0]*-cx + a[1]*-cy + a[2] + cx
	a[5] = a[3]*-cx + a[4]*-cy + a[5] + cy

	out := NewImage(m.W, m.H, m.C)
	fc := fillColor(fill, m.C)
	for i := 0; i < len(out.Pix); i += m.C {
		copy(out.Pix[i:i+m.C], fc)
	}
	switch interp.or(Nearest) {
	case Nearest:
		affineNearest(out, m, a)
	case Bicubic:
		affineSample(out, m, a, bicubicAt)
	default:
		affineSample(out, m, a, bilinearAt)
	}
	return out
}

// round15 is Python's round(x, 15), which PIL applies to the rotation matrix.
func round15(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 15, 64), 64)
	return v
}

// rotate90 is PIL's transpose ROTATE_90 (counter-clockwise) or ROTATE_270.
func rotate90(m *Image, ccw bool) *Image {
	out := NewImage(m.H, m.W, m.C)
	c := m.C
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			ox, oy := y, m.W-1-x
			if !ccw {
				ox, oy = m.H-1-y, x
			}
			copy(out.Pix[(oy*out.W+ox)*c:(oy*out.W+ox+1)*c], m.Pix[(y*m.W+x)*c:(y*m.W+x+1)*c])
		}
	}
	return out
}

// affineNearest is PIL's affine_fixed: the inverse map in 16.16 fixed point,
// stepped by integer adds.
func affineNearest(out, m *Image, a [6]float64) {
	fix := func(v float64) int32 { return int32(math.Floor(v*65536 + 0.5)) }
	a0, a1, a3, a4 := fix(a[0]), fix(a[1]), fix(a[3]), fix(a[4])
	a2 := fix(a[2] + a[0]*0.5 + a[1]*0.5)
	a5 := fix(a[5] + a[3]*0.5 + a[4]*0.5)
	c := m.C
	for y := 0; y < out.H; y++ {
		xx, yy := a2, a5
		dst := out.Pix[y*out.Stride():]
		for x := 0; x < out.W; x++ {
			xin, yin := int(xx>>16), int(yy>>16)
			if xin >= 0 && xin < m.W && yin >= 0 && yin < m.H {
				p := (yin*m.W + xin) * c
				copy(dst[x*c:x*c+c], m.Pix[p:p+c])
			}
			xx += a0
			yy += a3
		}
		a2 += a1
		a5 += a4
	}
}

// affineSample is PIL's ImagingGenericTransform with the affine map: each
// output pixel centre is mapped back and sampled by at, which reports false
// outside m (leaving the fill colour).
func affineSample(out, m *Image, a [6]float64, at func(dst []uint8, m *Image, x, y float64) bool) {
	c := out.C
	for y := 0; y < out.H; y++ {
		yin := float64(y) + 0.5
		for x := 0; x < out.W; x++ {
			xin := float64(x) + 0.5
			sx := a[0]*xin + a[1]*yin + a[2]
			sy := a[3]*xin + a[4]*yin + a[5]
			at(out.Pix[(y*out.W+x)*c:(y*out.W+x+1)*c], m, sx, sy)
		}
	}
}

func clipIdx(i, n int) int { return min(max(i, 0), n-1) }

// bilinearAt is PIL's bilinear_filter8/32RGB: edge-clamped taps and a
// truncating conversion to 8 bits.
func bilinearAt(dst []uint8, m *Image, xin, yin float64) bool {
	if xin < 0 || xin >= float64(m.W) || yin < 0 || yin >= float64(m.H) {
		return false
	}
	xin -= 0.5
	yin -= 0.5
	x, y := int(math.Floor(xin)), int(math.Floor(yin))
	dx, dy := xin-float64(x), yin-float64(y)
	c := m.C
	x0, x1 := clipIdx(x, m.W)*c, clipIdx(x+1, m.W)*c
	r0 := m.Pix[clipIdx(y, m.H)*m.Stride():]
	hasR1 := y+1 >= 0 && y+1 < m.H
	var r1 []uint8
	if hasR1 {
		r1 = m.Pix[(y+1)*m.Stride():]
	}
	for ch := 0; ch < c; ch++ {
		v1 := float64(r0[x0+ch]) + float64(int(r0[x1+ch])-int(r0[x0+ch]))*dx
		v2 := v1
		if hasR1 {
			v2 = float64(r1[x0+ch]) + float64(int(r1[x1+ch])-int(r1[x0+ch]))*dx
		}
		dst[ch] = uint8(v1 + (v2-v1)*dy)
	}
	return true
}

// bicubicAt is PIL's bicubic_filter8/32RGB (a = -0.5 convolution, clamped).
func bicubicAt(dst []uint8, m *Image, xin, yin float64) bool {
	if xin < 0 || xin >= float64(m.W) || yin < 0 || yin >= float64(m.H) {
		return false
	}
	xin -= 0.5
	yin -= 0.5
	x, y := int(math.Floor(xin))-1, int(math.Floor(yin))-1
	dx, dy := xin-float64(x+1), yin-float64(y+1)
	c := m.C
	var xs [4]int
	for i := range xs {
		xs[i] = clipIdx(x+i, m.W) * c
	}
	cubic := func(v1, v2, v3, v4, d float64) float64 {
		p1 := v2
		p2 := -v1 + v3
		p3 := 2*(v1-v2) + v3 - v4
		p4 := -v1 + v2 - v3 + v4
		return p1 + d*(p2+d*(p3+d*p4))
	}
	for ch := 0; ch < c; ch++ {
		row := func(r []uint8) float64 {
			return cubic(float64(r[xs[0]+ch]), float64(r[xs[1]+ch]), float64(r[xs[2]+ch]), float64(r[xs[3]+ch]), dx)
		}
		var v [4]float64
		v[0] = row(m.Pix[clipIdx(y, m.H)*m.Stride():])
		for i := 1; i < 4; i++ {
			if y+i >= 0 && y+i < m.H {
				v[i] = row(m.Pix[(y+i)*m.Stride():])
			} else {
				v[i] = v[i-1]
			}
		}
		r := cubic(v[0], v[1], v[2], v[3], dy)
		switch {
		case r <= 0:
			dst[ch] = 0
		case r >= 255:
			dst[ch] = 255
		default:
			dst[ch] = uint8(r)
		}
	}
	return true
}

// RandomRotation rotates by an angle drawn uniformly from Degrees, as
// torchvision.transforms.RandomRotation (expand=False, centre of the image).
type RandomRotation struct {
	Degrees [2]float64 // [min, max]; RandomRotation(d) is [-d, d]
	Interp  Interpolation
	Fill    []uint8
}

// Params draws the angle; a nil rng gives 0.
func (t RandomRotation) Params(rng *rand.Rand) float64 {
	if rng == nil {
		return 0
	}
	return t.Degrees[0] + rng.Float64()*(t.Degrees[1]-t.Degrees[0])
}

// Apply implements Transform.
func (t RandomRotation) Apply(m *Image, rng *rand.Rand) *Image {
	return Rotate(m, t.Params(rng), t.Interp, t.Fill)
}

// OutSize implements Transform.
func (t RandomRotation) OutSize(w, h, c int) (int, int, int) { return w, h, c }

// String implements Transform.
func (t RandomRotation) String() string {
	s := fmt.Sprintf("rotate=%g/%g", t.Degrees[0], t.Degrees[1])
	if t.Degrees[0] == -t.Degrees[1] {
		s = fmt.Sprintf("rotate=%g", t.Degrees[1])
	}
	if t.Interp != InterpDefault {
		s += ":" + t.Interp.String()
	}
	if len(t.Fill) > 0 {
		s += ":fill=" + joinBytes(t.Fill)
	}
	return s
}
