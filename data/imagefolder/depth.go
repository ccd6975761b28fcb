package imagefolder

// This file holds the 16-bit rule, the two decode modes, 32-bit grey
// (TIFF's integer and float samples, Pillow's modes I and F) and Inspect,
// which tells how deep an image file's samples are. It leaves out deeper
// colour than 16 bits, which no decoder here reads.
//
// The rule, for what a user sees in an image viewer. A 16-bit grey image
// whose every sample is at most 255 is 8-bit data stored in 16 bits (what
// Pillow writes when an 8-bit picture is saved in mode I or I;16): its
// samples are taken as they are, which is also what Pillow gives. Any other
// 16-bit image, grey or colour, uses the 16-bit range and is scaled to 8
// bits by its high byte, as a viewer shows it. Pillow instead clips 16-bit
// grey at 255, which turns such an image white; ModePIL does that.

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"strings"

	"github.com/kiln-ml/kiln/data/transform"
)

// Mode chooses how samples deeper than 8 bits become 8-bit pixels; every
// other conversion is Pillow's in both modes.
type Mode int

const (
	// ModeView applies the 16-bit rule: what an image viewer shows.
	ModeView Mode = iota
	// ModePIL converts as Pillow 9's convert("RGB") and convert("L") do,
	// clipping 16-bit grey at 255: parity with a torchvision pipeline.
	ModePIL
)

// Modes are the names ParseMode accepts, in Mode order.
var Modes = []string{"view", "pil"}

// ParseMode reads a --decode value: "view" (or empty) or "pil".
func ParseMode(s string) (Mode, error) {
	for i, n := range Modes {
		if s == n {
			return Mode(i), nil
		}
	}
	if s == "" {
		return ModeView, nil
	}
	return 0, fmt.Errorf("imagefolder: decode mode %q, want one of %s", s, strings.Join(Modes, ", "))
}

// String returns the mode's name.
func (m Mode) String() string {
	if int(m) >= 0 && int(m) < len(Modes) {
		return Modes[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// grey16 converts 16-bit grey samples to 8 bits under mode m.
func grey16(g *image.Gray16, channels int, m Mode) *transform.Image {
	r := g.Rect
	out := transform.NewImage(r.Dx(), r.Dy(), channels)
	wide := m == ModeView && grey16Max(g) > 255
	for y := 0; y < out.H; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+2*out.W]
		dst := out.Pix[y*out.Stride():]
		for x := 0; x < out.W; x++ {
			v := uint16(row[2*x])<<8 | uint16(row[2*x+1])
			var b uint8
			switch {
			case wide:
				b = uint8(v >> 8)
			case v > 255:
				b = 255
			default:
				b = uint8(v)
			}
			for c := 0; c < channels; c++ {
				dst[x*channels+c] = b
			}
		}
	}
	return out
}

// grey16Max returns the largest sample.
func grey16Max(g *image.Gray16) uint16 {
	var hi uint16
	r := g.Rect
	for y := 0; y < r.Dy(); y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+2*r.Dx()]
		for x := 0; x < len(row); x += 2 {
			hi = max(hi, uint16(row[x])<<8|uint16(row[x+1]))
		}
	}
	return hi
}

// pngGrey16 returns the grey samples of a 16-bit grey PNG that Go's decoder
// widened to NRGBA64 because of a tRNS chunk (Pillow ignores the
// transparency in convert), or nil for any other image.
func pngGrey16(b []byte, img image.Image) *image.Gray16 {
	n, ok := img.(*image.NRGBA64)
	if !ok || len(b) < 26 || b[24] != 16 || b[25] != 0 { // IHDR bit depth, colour type
		return nil
	}
	g := image.NewGray16(n.Rect)
	for y := 0; y < n.Rect.Dy(); y++ {
		for x := 0; x < n.Rect.Dx(); x++ {
			i := y*n.Stride + 8*x
			copy(g.Pix[y*g.Stride+2*x:], n.Pix[i:i+2])
		}
	}
	return g
}

// Depth is what Inspect learns about one image file.
type Depth struct {
	Bits     int    // bits per sample: 8, 16 or 32 (1-bit and palette images count as 8)
	Grey     bool   // one grey channel, where the 16-bit rule decides
	Min, Max uint16 // the range of 16- and 32-bit samples, clipped to 0-65535; zero for 8-bit images
	Packed   bool   // deep grey integers all in 0-255: 8-bit data the rule keeps as it is
}

// Inspect reads an image file's bits per sample from its header and, for a
// 16-bit image, decodes it for its range of values. 8-bit files are not
// decoded.
func Inspect(b []byte) (Depth, error) {
	d, err := inspect(b)
	if err != nil {
		return Depth{}, fmt.Errorf("imagefolder: %w", err)
	}
	return d, nil
}

func inspect(b []byte) (Depth, error) {
	f, ok := sniff(b[:min(len(b), 12)])
	if !ok {
		return Depth{}, errFormat
	}
	deep := false
	switch f.name {
	case fmtPNG.name:
		deep = len(b) > 24 && b[24] == 16
	case fmtPNM.name:
		h, err := readPNMHeader(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return Depth{}, err
		}
		deep = h.wide
	case fmtTIFF.name:
		c, err := f.safeConfig(bytes.NewReader(b))
		if err != nil {
			return Depth{}, err
		}
		deep = c.ColorModel == color.Gray16Model || c.ColorModel == color.RGBA64Model || c.ColorModel == color.NRGBA64Model ||
			c.ColorModel == wideGreyModel
	}
	if !deep {
		return Depth{Bits: 8}, nil
	}
	if _, err := decodeConfig(bytes.NewReader(b), 0); err != nil {
		return Depth{}, err // the size guard, before any pixel is decoded
	}
	img, err := f.safeDecode(b)
	if err != nil {
		return Depth{}, err
	}
	if g := pngGrey16(b, img); g != nil {
		img = g
	}
	d := Depth{Bits: 16, Min: 0xffff}
	if g, ok := img.(*wideGrey); ok {
		d = Depth{Bits: 32, Grey: true, Min: 0xffff, Packed: !g.Float}
		for _, v := range g.V {
			u := uint16(max(min(v, 65535), 0)) // NaN is 0
			d.Min, d.Max = min(d.Min, u), max(d.Max, u)
			d.Packed = d.Packed && v >= 0 && v <= 255
		}
		return d, nil
	}
	if g, ok := img.(*image.Gray16); ok {
		d.Grey = true
		r := g.Rect
		for y := 0; y < r.Dy(); y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+2*r.Dx()]
			for x := 0; x < len(row); x += 2 {
				v := uint16(row[x])<<8 | uint16(row[x+1])
				d.Min, d.Max = min(d.Min, v), max(d.Max, v)
			}
		}
		d.Packed = d.Max <= 255
		return d, nil
	}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBA64Model.Convert(img.At(x, y)).(color.NRGBA64)
			d.Min = min(d.Min, c.R, c.G, c.B)
			d.Max = max(d.Max, c.R, c.G, c.B)
		}
	}
	return d, nil
}

// wideGrey is 32-bit grey from a TIFF: integer (Pillow's mode I) or float
// (mode F) samples, held as float64, which holds both exactly.
type wideGrey struct {
	Rect  image.Rectangle
	V     []float64 // row by row, no padding
	Float bool
}

// wideGreyModel is wideGrey's colour model, color.GrayModel's conversion
// under a name of its own, which tells Inspect a 32-bit TIFF.
var wideGreyModel = color.ModelFunc(color.GrayModel.Convert)

func (g *wideGrey) ColorModel() color.Model { return wideGreyModel }
func (g *wideGrey) Bounds() image.Rectangle { return g.Rect }
func (g *wideGrey) At(x, y int) color.Color {
	if !image.Pt(x, y).In(g.Rect) {
		return color.Gray{}
	}
	return color.Gray{pilClip(g.V[(y-g.Rect.Min.Y)*g.Rect.Dx()+x-g.Rect.Min.X])}
}

// pilClip is Pillow's i2l and f2l: at most 0 is 0 (NaN too), at least 255
// is 255, the rest truncated.
func pilClip(v float64) uint8 {
	switch {
	case v >= 255:
		return 255
	case v > 0:
		return uint8(v)
	}
	return 0
}

// wideGrey8 converts 32-bit grey to 8 bits under mode m. Float samples and
// ModePIL clip as Pillow does (pilClip). Under ModeView, integer samples
// that all lie in 0-65535 are 16-bit data (what Pillow holds a 16-bit PNG
// in) and take the 16-bit rule; other integer images are clipped as
// Pillow does, there being no range a viewer would agree on.
func wideGrey8(g *wideGrey, channels int, m Mode) *transform.Image {
	out := transform.NewImage(g.Rect.Dx(), g.Rect.Dy(), channels)
	wide := false
	if m == ModeView && !g.Float && len(g.V) > 0 {
		lo, hi := g.V[0], g.V[0]
		for _, v := range g.V {
			lo, hi = min(lo, v), max(hi, v)
		}
		wide = lo >= 0 && hi > 255 && hi <= 65535
	}
	for i, v := range g.V {
		b := pilClip(v)
		if wide {
			b = uint8(uint32(v) >> 8)
		}
		for c := 0; c < channels; c++ {
			out.Pix[i*channels+c] = b
		}
	}
	return out
}
