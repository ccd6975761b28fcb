package transform

// This file holds cropping and padding: Crop, Pad, CenterCrop and RandomCrop.
// It leaves out torchvision's negative padding (which crops) and FiveCrop /
// TenCrop, which return several images.

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Crop returns the h×w region of m whose top-left corner is (left, top), as
// PIL's Image.crop: any part outside m is black.
func Crop(m *Image, top, left, h, w int) *Image {
	out := NewImage(w, h, m.C)
	c := m.C
	x0, x1 := max(left, 0), min(left+w, m.W)
	if x0 >= x1 {
		return out
	}
	for y := max(top, 0); y < min(top+h, m.H); y++ {
		src := m.Pix[y*m.Stride()+x0*c : y*m.Stride()+x1*c]
		copy(out.Pix[(y-top)*out.Stride()+(x0-left)*c:], src)
	}
	return out
}

// PadMode is how Pad invents the border, as torchvision's padding_mode.
type PadMode int

// The padding modes; the last three are numpy.pad's, which torchvision uses
// for PIL images.
const (
	PadConstant  PadMode = iota // the fill colour
	PadEdge                     // repeat the edge pixel
	PadReflect                  // mirror without repeating the edge: 2 1 | 0 1 2
	PadSymmetric                // mirror repeating the edge: 1 0 | 0 1 2
)

// String returns the mode's name as Parse accepts it.
func (p PadMode) String() string {
	switch p {
	case PadConstant:
		return "constant"
	case PadEdge:
		return "edge"
	case PadReflect:
		return "reflect"
	case PadSymmetric:
		return "symmetric"
	}
	return fmt.Sprintf("PadMode(%d)", int(p))
}

// Pad returns m with left, top, right and bottom borders added (all >= 0).
func Pad(m *Image, left, top, right, bottom int, mode PadMode, fill []uint8) *Image {
	if left < 0 || top < 0 || right < 0 || bottom < 0 {
		panic(fmt.Sprintf("transform: negative padding %d,%d,%d,%d", left, top, right, bottom))
	}
	w, h, c := m.W+left+right, m.H+top+bottom, m.C
	out := NewImage(w, h, c)
	if mode == PadConstant {
		fc := fillColor(fill, c)
		for i := 0; i < len(out.Pix); i += c {
			copy(out.Pix[i:i+c], fc)
		}
		for y := 0; y < m.H; y++ {
			copy(out.Pix[(y+top)*out.Stride()+left*c:], m.Pix[y*m.Stride():(y+1)*m.Stride()])
		}
		return out
	}
	xs := make([]int, w)
	for x := range xs {
		xs[x] = padIndex(x-left, m.W, mode)
	}
	for y := 0; y < h; y++ {
		src := m.Pix[padIndex(y-top, m.H, mode)*m.Stride():]
		dst := out.Pix[y*out.Stride():]
		for x, sx := range xs {
			copy(dst[x*c:x*c+c], src[sx*c:sx*c+c])
		}
	}
	return out
}

// padIndex maps a coordinate outside [0, n) back inside it the way numpy.pad
// does for mode (numpy repeats the reflection for borders wider than n).
func padIndex(i, n int, mode PadMode) int {
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case PadReflect:
		if n == 1 {
			return 0
		}
		p := 2 * (n - 1)
		i = ((i % p) + p) % p
		if i >= n {
			i = p - i
		}
		return i
	case PadSymmetric:
		p := 2 * n
		i = ((i % p) + p) % p
		if i >= n {
			i = p - 1 - i
		}
		return i
	}
	return min(max(i, 0), n-1)
}

// CenterCrop crops the centre H×W of an image, as
// torchvision.transforms.CenterCrop: an image smaller than the crop is first
// padded with black, and the offset rounds half to even as Python's round.
type CenterCrop struct{ H, W int }

// CenterCropImage returns the centre h×w of m.
func CenterCropImage(m *Image, h, w int) *Image {
	if w > m.W || h > m.H {
		pl, pt := 0, 0
		pr, pb := 0, 0
		if w > m.W {
			pl, pr = (w-m.W)/2, (w-m.W+1)/2
		}
		if h > m.H {
			pt, pb = (h-m.H)/2, (h-m.H+1)/2
		}
		m = Pad(m, pl, pt, pr, pb, PadConstant, nil)
		if m.W == w && m.H == h {
			return m
		}
	}
	if m.W == w && m.H == h {
		return m
	}
	top := int(math.RoundToEven(float64(m.H-h) / 2))
	left := int(math.RoundToEven(float64(m.W-w) / 2))
	return Crop(m, top, left, h, w)
}

// Apply implements Transform.
func (t CenterCrop) Apply(m *Image, _ *rand.Rand) *Image { return CenterCropImage(m, t.H, t.W) }

// OutSize implements Transform.
func (t CenterCrop) OutSize(_, _, c int) (int, int, int) { return t.W, t.H, c }

// String implements Transform.
func (t CenterCrop) String() string { return "centercrop=" + sizeString(t.H, t.W) }

// RandomCrop crops a random H×W region, as torchvision.transforms.RandomCrop:
// the image is first padded by Padding (left, top, right, bottom), then, with
// PadIfNeeded, padded on both sides by whatever it still lacks.
type RandomCrop struct {
	H, W        int
	Padding     [4]int
	PadIfNeeded bool
	Fill        []uint8
	Mode        PadMode
}

// CropParams is a crop rectangle in the coordinates of the image being cropped.
type CropParams struct{ Top, Left, H, W int }

// pad applies the padding stage of RandomCrop.
func (t RandomCrop) pad(m *Image) *Image {
	p := t.Padding
	if p != [4]int{} {
		m = Pad(m, p[0], p[1], p[2], p[3], t.Mode, t.Fill)
	}
	if t.PadIfNeeded && m.W < t.W {
		d := t.W - m.W
		m = Pad(m, d, 0, d, 0, t.Mode, t.Fill)
	}
	if t.PadIfNeeded && m.H < t.H {
		d := t.H - m.H
		m = Pad(m, 0, d, 0, d, t.Mode, t.Fill)
	}
	return m
}

// Params draws the crop from the padded w×h image, as RandomCrop.get_params;
// a nil rng gives the centre crop.
func (t RandomCrop) Params(w, h int, rng *rand.Rand) CropParams {
	if w == t.W && h == t.H {
		return CropParams{0, 0, h, w}
	}
	if rng == nil {
		return CropParams{int(math.RoundToEven(float64(h-t.H) / 2)), int(math.RoundToEven(float64(w-t.W) / 2)), t.H, t.W}
	}
	top := rng.IntN(h - t.H + 1)
	left := rng.IntN(w - t.W + 1)
	return CropParams{top, left, t.H, t.W}
}

// Apply implements Transform. An image still smaller than the crop after
// padding is cropped with black beyond its edge rather than rejected.
func (t RandomCrop) Apply(m *Image, rng *rand.Rand) *Image {
	m = t.pad(m)
	if m.W < t.W || m.H < t.H {
		return CenterCropImage(m, t.H, t.W)
	}
	p := t.Params(m.W, m.H, rng)
	return Crop(m, p.Top, p.Left, p.H, p.W)
}

// OutSize implements Transform.
func (t RandomCrop) OutSize(_, _, c int) (int, int, int) { return t.W, t.H, c }

// String implements Transform.
func (t RandomCrop) String() string {
	s := "randomcrop=" + sizeString(t.H, t.W)
	p := t.Padding
	switch {
	case p == [4]int{}:
	case p[0] == p[1] && p[1] == p[2] && p[2] == p[3]:
		s += fmt.Sprintf(":pad=%d", p[0])
	default:
		s += fmt.Sprintf(":pad=%d/%d/%d/%d", p[0], p[1], p[2], p[3])
	}
	if t.PadIfNeeded {
		s += ":padifneeded"
	}
	if t.Mode != PadConstant {
		s += ":" + t.Mode.String()
	}
	if len(t.Fill) > 0 {
		s += ":fill=" + joinBytes(t.Fill)
	}
	return s
}

func sizeString(h, w int) string {
	if h == w {
		return fmt.Sprint(h)
	}
	return fmt.Sprintf("%dx%d", h, w)
}

func joinBytes(b []uint8) string {
	s := ""
	for i, v := range b {
		if i > 0 {
			s += "/"
		}
		s += fmt.Sprint(v)
	}
	return s
}
