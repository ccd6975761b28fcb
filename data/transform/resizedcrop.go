package transform

// This file holds RandomResizedCrop. It leaves out torchvision's v2 variant,
// which draws the same way.

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RandomResizedCrop crops a random region of random area and aspect ratio and
// resizes it to H×W, as torchvision.transforms.RandomResizedCrop.
// The zero Scale and Ratio mean torchvision's defaults (0.08, 1) and
// (3/4, 4/3).
type RandomResizedCrop struct {
	H, W   int
	Scale  [2]float64 // range of the crop's area as a fraction of the image's
	Ratio  [2]float64 // range of the crop's width/height
	Interp Interpolation
}

func (t RandomResizedCrop) ranges() (scale, ratio [2]float64) {
	scale, ratio = t.Scale, t.Ratio
	if scale == [2]float64{} {
		scale = [2]float64{0.08, 1}
	}
	if ratio == [2]float64{} {
		ratio = [2]float64{3.0 / 4, 4.0 / 3}
	}
	return scale, ratio
}

// Params draws the crop for a w×h image as RandomResizedCrop.get_params: up
// to ten tries at a random area and log-uniform aspect ratio, then a centre
// crop clamped to the ratio range. A nil rng goes straight to that fallback.
func (t RandomResizedCrop) Params(w, h int, rng *rand.Rand) CropParams {
	scale, ratio := t.ranges()
	area := float64(w * h)
	if rng != nil {
		lo, hi := math.Log(ratio[0]), math.Log(ratio[1])
		for range 10 {
			target := area * (scale[0] + rng.Float64()*(scale[1]-scale[0]))
			aspect := math.Exp(lo + rng.Float64()*(hi-lo))
			cw := int(math.RoundToEven(math.Sqrt(target * aspect)))
			ch := int(math.RoundToEven(math.Sqrt(target / aspect)))
			if 0 < cw && cw <= w && 0 < ch && ch <= h {
				top := rng.IntN(h - ch + 1)
				left := rng.IntN(w - cw + 1)
				return CropParams{top, left, ch, cw}
			}
		}
	}
	inRatio := float64(w) / float64(h)
	cw, ch := w, h
	switch {
	case inRatio < min(ratio[0], ratio[1]):
		ch = int(math.RoundToEven(float64(cw) / min(ratio[0], ratio[1])))
	case inRatio > max(ratio[0], ratio[1]):
		cw = int(math.RoundToEven(float64(ch) * max(ratio[0], ratio[1])))
	}
	return CropParams{(h - ch) / 2, (w - cw) / 2, ch, cw}
}

// Apply implements Transform.
func (t RandomResizedCrop) Apply(m *Image, rng *rand.Rand) *Image {
	p := t.Params(m.W, m.H, rng)
	return ResizeImage(Crop(m, p.Top, p.Left, p.H, p.W), t.W, t.H, t.Interp)
}

// OutSize implements Transform.
func (t RandomResizedCrop) OutSize(_, _, c int) (int, int, int) { return t.W, t.H, c }

// String implements Transform.
func (t RandomResizedCrop) String() string {
	s := "randomresizedcrop=" + sizeString(t.H, t.W)
	if t.Scale != [2]float64{} {
		s += fmt.Sprintf(":scale=%g/%g", t.Scale[0], t.Scale[1])
	}
	if t.Ratio != [2]float64{} {
		s += fmt.Sprintf(":ratio=%g/%g", t.Ratio[0], t.Ratio[1])
	}
	if t.Interp != InterpDefault {
		s += ":" + t.Interp.String()
	}
	return s
}
