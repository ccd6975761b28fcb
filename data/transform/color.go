package transform

// This file holds the colour transforms: Grayscale, the four PIL
// ImageEnhance-style adjustments and ColorJitter. It leaves out gamma,
// posterize, solarize and the other AutoAugment-only operations.

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Luma is PIL's RGB to "L" conversion: ITU-R 601-2 weights 0.299, 0.587,
// 0.114 in 16-bit fixed point, rounded.
func Luma(r, g, b uint8) uint8 {
	return uint8((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}

// ToGray returns m converted to c channels of luma (c is 1 or 3), as
// torchvision's F.to_grayscale: PIL's convert("L"), replicated for 3.
func ToGray(m *Image, c int) *Image {
	out := NewImage(m.W, m.H, c)
	n := m.W * m.H
	for i := 0; i < n; i++ {
		var l uint8
		if m.C == 1 {
			l = m.Pix[i]
		} else {
			p := m.Pix[i*m.C : i*m.C+3]
			l = Luma(p[0], p[1], p[2])
		}
		for ch := 0; ch < c; ch++ {
			out.Pix[i*c+ch] = l
		}
	}
	return out
}

// Grayscale converts to luma with Channels outputs (1 or 3), as
// torchvision.transforms.Grayscale.
type Grayscale struct{ Channels int }

// Apply implements Transform.
func (t Grayscale) Apply(m *Image, _ *rand.Rand) *Image { return ToGray(m, t.channels()) }

// OutSize implements Transform.
func (t Grayscale) OutSize(w, h, _ int) (int, int, int) { return w, h, t.channels() }

// String implements Transform.
func (t Grayscale) String() string { return fmt.Sprintf("grayscale=%d", t.channels()) }

func (t Grayscale) channels() int {
	if t.Channels == 3 {
		return 3
	}
	return 1
}

// blend is PIL's Image.blend(degenerate, m, factor) with a per-channel
// degenerate value: single-precision arithmetic, truncated, clamped only
// when extrapolating. deg returns the degenerate byte for pixel i channel ch.
func blend(m *Image, factor float64, deg func(i, ch int) uint8) *Image {
	alpha := float32(factor)
	if alpha == 1 {
		return m
	}
	out := NewImage(m.W, m.H, m.C)
	c := m.C
	for i := 0; i < m.W*m.H; i++ {
		for ch := 0; ch < c; ch++ {
			a := deg(i, ch)
			b := m.Pix[i*c+ch]
			if alpha == 0 {
				out.Pix[i*c+ch] = a
				continue
			}
			v := float32(a) + alpha*float32(int(b)-int(a))
			switch {
			case alpha >= 0 && alpha <= 1:
				out.Pix[i*c+ch] = uint8(v)
			case v <= 0:
				out.Pix[i*c+ch] = 0
			case v >= 255:
				out.Pix[i*c+ch] = 255
			default:
				out.Pix[i*c+ch] = uint8(v)
			}
		}
	}
	return out
}

// AdjustBrightness scales towards black by factor (1 leaves m unchanged), as
// torchvision's F.adjust_brightness on a PIL image.
func AdjustBrightness(m *Image, factor float64) *Image {
	return blend(m, factor, func(int, int) uint8 { return 0 })
}

// AdjustContrast blends with the image's mean luma (rounded), as
// F.adjust_contrast on a PIL image.
func AdjustContrast(m *Image, factor float64) *Image {
	var sum uint64
	n := m.W * m.H
	for i := 0; i < n; i++ {
		if m.C == 1 {
			sum += uint64(m.Pix[i])
		} else {
			sum += uint64(Luma(m.Pix[i*m.C], m.Pix[i*m.C+1], m.Pix[i*m.C+2]))
		}
	}
	mean := uint8(0)
	if n > 0 {
		mean = uint8(int(float64(sum)/float64(n) + 0.5))
	}
	return blend(m, factor, func(int, int) uint8 { return mean })
}

// AdjustSaturation blends with the image's own luma, as F.adjust_saturation
// on a PIL image (a grayscale image is unchanged).
func AdjustSaturation(m *Image, factor float64) *Image {
	if m.C == 1 {
		return m
	}
	c := m.C
	return blend(m, factor, func(i, _ int) uint8 {
		return Luma(m.Pix[i*c], m.Pix[i*c+1], m.Pix[i*c+2])
	})
}

// AdjustHue rotates hue by factor of a full turn (factor in [-0.5, 0.5]), as
// F.adjust_hue on a PIL image: through PIL's 8-bit HSV, with the hue byte
// wrapping around.
func AdjustHue(m *Image, factor float64) *Image {
	if m.C == 1 {
		return m
	}
	shift := uint8(int32(factor * 255))
	out := NewImage(m.W, m.H, m.C)
	for i := 0; i < len(m.Pix); i += m.C {
		h, s, v := rgbToHSV(m.Pix[i], m.Pix[i+1], m.Pix[i+2])
		r, g, b := hsvToRGB(h+shift, s, v)
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = r, g, b
	}
	return out
}

func clip8i(v int) uint8 { return uint8(min(max(v, 0), 255)) }

// rgbToHSV is PIL's rgb2hsv_row, keeping its mix of float and double.
func rgbToHSV(r, g, b uint8) (uint8, uint8, uint8) {
	maxc, minc := max(r, g, b), min(r, g, b)
	if maxc == minc {
		return 0, 0, maxc
	}
	cr := float32(maxc - minc)
	s := cr / float32(maxc)
	rc := float32(maxc-r) / cr
	gc := float32(maxc-g) / cr
	bc := float32(maxc-b) / cr
	var h float32
	switch {
	case r == maxc:
		h = bc - gc
	case g == maxc:
		h = float32(2.0 + float64(rc) - float64(bc))
	default:
		h = float32(4.0 + float64(gc) - float64(rc))
	}
	h = float32(math.Mod(float64(h)/6.0+1.0, 1.0))
	return clip8i(int(float64(h) * 255.0)), clip8i(int(float64(s) * 255.0)), maxc
}

// hsvToRGB is PIL's hsv2rgb.
func hsvToRGB(h, s, v uint8) (uint8, uint8, uint8) {
	if s == 0 {
		return v, v, v
	}
	hf := float64(float32(h)) * 6.0 / 255.0
	i := int(math.Floor(hf))
	f := float32(hf - float64(float32(i)))
	fs := float32(float64(float32(s)) / 255.0)
	fv := float64(float32(v))
	p := clip8i(int(math.Round(fv * (1.0 - float64(fs)))))
	q := clip8i(int(math.Round(fv * (1.0 - float64(fs*f)))))
	t := clip8i(int(math.Round(fv * (1.0 - float64(fs)*(1.0-float64(f))))))
	switch i % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	}
	return v, p, q
}

// ColorJitter randomly changes brightness, contrast, saturation and hue, in a
// random order, as torchvision.transforms.ColorJitter. A value v of the first
// three draws the factor from [max(0, 1-v), 1+v]; Hue h draws from [-h, h]
// (h <= 0.5). Zero disables that adjustment.
type ColorJitter struct {
	Brightness, Contrast, Saturation, Hue float64
}

// JitterParams is one draw of ColorJitter: the order of the four
// adjustments (0 brightness, 1 contrast, 2 saturation, 3 hue) and their
// factors; a disabled adjustment has factor 1 (hue 0).
type JitterParams struct {
	Order                                 [4]int
	Brightness, Contrast, Saturation, Hue float64
}

// Params draws the order and the factors; a nil rng changes nothing.
func (t ColorJitter) Params(rng *rand.Rand) JitterParams {
	p := JitterParams{Order: [4]int{0, 1, 2, 3}, Brightness: 1, Contrast: 1, Saturation: 1}
	if rng == nil {
		return p
	}
	rng.Shuffle(4, func(i, j int) { p.Order[i], p.Order[j] = p.Order[j], p.Order[i] })
	factor := func(v float64) float64 {
		lo := max(0, 1-v)
		return lo + rng.Float64()*(1+v-lo)
	}
	if t.Brightness > 0 {
		p.Brightness = factor(t.Brightness)
	}
	if t.Contrast > 0 {
		p.Contrast = factor(t.Contrast)
	}
	if t.Saturation > 0 {
		p.Saturation = factor(t.Saturation)
	}
	if t.Hue > 0 {
		p.Hue = -t.Hue + rng.Float64()*2*t.Hue
	}
	return p
}

// ApplyParams applies a draw of ColorJitter to m.
func (t ColorJitter) ApplyParams(m *Image, p JitterParams) *Image {
	for _, op := range p.Order {
		switch {
		case op == 0 && t.Brightness > 0:
			m = AdjustBrightness(m, p.Brightness)
		case op == 1 && t.Contrast > 0:
			m = AdjustContrast(m, p.Contrast)
		case op == 2 && t.Saturation > 0:
			m = AdjustSaturation(m, p.Saturation)
		case op == 3 && t.Hue > 0:
			m = AdjustHue(m, p.Hue)
		}
	}
	return m
}

// Apply implements Transform.
func (t ColorJitter) Apply(m *Image, rng *rand.Rand) *Image {
	if rng == nil {
		return m
	}
	return t.ApplyParams(m, t.Params(rng))
}

// OutSize implements Transform.
func (t ColorJitter) OutSize(w, h, c int) (int, int, int) { return w, h, c }

// String implements Transform.
func (t ColorJitter) String() string {
	return fmt.Sprintf("colorjitter=%g/%g/%g/%g", t.Brightness, t.Contrast, t.Saturation, t.Hue)
}
