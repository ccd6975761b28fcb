// Package transform holds torchvision's image transforms for kiln: 8-bit
// operations on an interleaved Image (PIL's memory layout), then ToTensor and
// Normalize into float32 CHW.
//
// Each operation reproduces what torchvision does to a PIL image, down to
// PIL's fixed-point resampling and its rounding, so that a model trained with
// PyTorch sees the same pixels here; testdata/make.py holds the golden outputs
// the tests compare against. Randomness comes only from the *rand.Rand passed
// in, and every random transform splits choosing its parameters (Params) from
// applying them, so a caller can log, replay or share the draw.
//
// This file holds the Image type and the Transform interface; it leaves out
// everything that decodes files (see data/imagefolder).
package transform

import (
	"fmt"
	"math/rand/v2"
)

// Image is an 8-bit image laid out as PIL lays it out: rows top to bottom,
// pixels left to right, C channels interleaved (HWC). C is 1 (PIL's "L") or 3
// ("RGB").
type Image struct {
	W, H, C int
	Pix     []uint8 // len W*H*C
}

// NewImage returns a zeroed (black) w×h image with c channels.
func NewImage(w, h, c int) *Image {
	if w < 0 || h < 0 || c < 1 {
		panic(fmt.Sprintf("transform: bad image size %dx%dx%d", w, h, c))
	}
	return &Image{W: w, H: h, C: c, Pix: make([]uint8, w*h*c)}
}

// Clone returns a deep copy of m.
func (m *Image) Clone() *Image {
	out := &Image{W: m.W, H: m.H, C: m.C, Pix: make([]uint8, len(m.Pix))}
	copy(out.Pix, m.Pix)
	return out
}

// Stride is the number of bytes in one row.
func (m *Image) Stride() int { return m.W * m.C }

// Transform is one step of a pipeline over 8-bit images.
//
// Apply may modify m in place or return a new image; the caller must use only
// the returned image afterwards. rng drives random transforms; with a nil rng
// a random transform does its deterministic evaluation-time counterpart
// (no flip, no rotation, no jitter, a centred crop), so that a pipeline built
// for training can still be run without augmentation.
//
// OutSize reports the size of the output for a w×h image with c channels
// without touching pixels; a dataset uses it to know its example shape before
// decoding anything.
type Transform interface {
	Apply(m *Image, rng *rand.Rand) *Image
	OutSize(w, h, c int) (ow, oh, oc int)
	String() string
}

// Interpolation selects how a geometric transform samples the source image.
// The zero value means the transform's torchvision default: bilinear for
// resizing, nearest for rotation.
type Interpolation int

// The interpolation modes, named as torchvision.transforms.InterpolationMode.
const (
	InterpDefault Interpolation = iota
	Nearest
	Bilinear
	Bicubic
)

// String returns the mode's name as Parse accepts it.
func (i Interpolation) String() string {
	switch i {
	case InterpDefault:
		return "default"
	case Nearest:
		return "nearest"
	case Bilinear:
		return "bilinear"
	case Bicubic:
		return "bicubic"
	}
	return fmt.Sprintf("Interpolation(%d)", int(i))
}

func (i Interpolation) or(def Interpolation) Interpolation {
	if i == InterpDefault {
		return def
	}
	return i
}

// fillColor expands a torchvision-style fill (empty: black, one value:
// every channel, else one value per channel) to c bytes.
func fillColor(fill []uint8, c int) []uint8 {
	out := make([]uint8, c)
	switch len(fill) {
	case 0:
	case 1:
		for i := range out {
			out[i] = fill[0]
		}
	default:
		copy(out, fill)
	}
	return out
}

// checkFill reports whether fill fits an image of c channels.
func checkFill(fill []uint8, c int) error {
	if len(fill) > 1 && len(fill) != c {
		return fmt.Errorf("transform: fill has %d values for a %d-channel image", len(fill), c)
	}
	return nil
}
