package transform

// This file holds the mirror flips. It leaves out transposes other than the
// two mirrors (Rotate handles the right-angle turns).

import (
	"fmt"
	"math/rand/v2"
)

// HFlip mirrors m left to right in place and returns it.
func HFlip(m *Image) *Image {
	c := m.C
	for y := 0; y < m.H; y++ {
		row := m.Pix[y*m.Stride() : (y+1)*m.Stride()]
		for l, r := 0, m.W-1; l < r; l, r = l+1, r-1 {
			for ch := 0; ch < c; ch++ {
				row[l*c+ch], row[r*c+ch] = row[r*c+ch], row[l*c+ch]
			}
		}
	}
	return m
}

// VFlip mirrors m top to bottom in place and returns it.
func VFlip(m *Image) *Image {
	s := m.Stride()
	tmp := make([]uint8, s)
	for t, b := 0, m.H-1; t < b; t, b = t+1, b-1 {
		copy(tmp, m.Pix[t*s:(t+1)*s])
		copy(m.Pix[t*s:(t+1)*s], m.Pix[b*s:(b+1)*s])
		copy(m.Pix[b*s:(b+1)*s], tmp)
	}
	return m
}

// RandomHorizontalFlip mirrors an image left to right with probability P, as
// torchvision.transforms.RandomHorizontalFlip (whose default P is 0.5).
type RandomHorizontalFlip struct{ P float64 }

// Params reports whether this draw flips; a nil rng never does.
func (t RandomHorizontalFlip) Params(rng *rand.Rand) bool {
	return rng != nil && rng.Float64() < t.P
}

// Apply implements Transform.
func (t RandomHorizontalFlip) Apply(m *Image, rng *rand.Rand) *Image {
	if t.Params(rng) {
		return HFlip(m)
	}
	return m
}

// OutSize implements Transform.
func (t RandomHorizontalFlip) OutSize(w, h, c int) (int, int, int) { return w, h, c }

// String implements Transform.
func (t RandomHorizontalFlip) String() string { return fmt.Sprintf("hflip=%g", t.P) }

// RandomVerticalFlip mirrors an image top to bottom with probability P, as
// torchvision.transforms.RandomVerticalFlip.
type RandomVerticalFlip struct{ P float64 }

// Params reports whether this draw flips; a nil rng never does.
func (t RandomVerticalFlip) Params(rng *rand.Rand) bool {
	return rng != nil && rng.Float64() < t.P
}

// Apply implements Transform.
func (t RandomVerticalFlip) Apply(m *Image, rng *rand.Rand) *Image {
	if t.Params(rng) {
		return VFlip(m)
	}
	return m
}

// OutSize implements Transform.
func (t RandomVerticalFlip) OutSize(w, h, c int) (int, int, int) { return w, h, c }

// String implements Transform.
func (t RandomVerticalFlip) String() string { return fmt.Sprintf("vflip=%g", t.P) }
