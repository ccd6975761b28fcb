// Package viz draws kiln's image figures: grids of images (an
// autoencoder's inputs beside its reconstructions) and labelled scatter
// plots (features projected to two dimensions). It takes plain slices, not
// tensors or models, and returns images or writes PNG to an io.Writer;
// writing files atomically is the caller's job.
package viz

// This file draws image grids pixel by pixel with image/draw. It leaves out
// colour maps for single-channel images (they are grey), per-image
// normalisation (values are clamped to [0, 1], so a reconstruction is shown
// on the same scale as its input) and interpolated scaling: each pixel
// becomes a scale x scale block, which keeps small images legible.

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Layout of the grids, in output pixels.
const (
	gap      = 2 // between tiles and around the grid
	groupGap = 6 // between the groups of rows of CompareGrid
	maxSide  = 1 << 14
)

var (
	background = color.NRGBA{0x80, 0x80, 0x80, 0xff}
	textColor  = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// ImageGrid lays out images, each C*H*W values in CHW order with values in
// [0, 1] (clamped; NaN shows as 0), in rows of cols tiles, every pixel
// enlarged to a scale x scale block, on a grey background. One channel is
// drawn grey, three as RGB; any other channel count is drawn as the grey
// of the channels' mean.
func ImageGrid(images [][]float32, c, h, w, cols, scale int) (*image.NRGBA, error) {
	if err := checkGrid(images, c, h, w, cols, scale); err != nil {
		return nil, err
	}
	rows := (len(images) + cols - 1) / cols
	tw, th := w*scale+gap, h*scale+gap
	img, err := newCanvas(gap+cols*tw, gap+rows*th)
	if err != nil {
		return nil, err
	}
	for i, im := range images {
		drawTile(img, im, c, h, w, scale, gap+(i%cols)*tw, gap+(i/cols)*th)
	}
	return img, nil
}

// CompareGrid shows several equally long lists of images row against row:
// the first cols images of every list, one row per list, then the next
// cols, and so on, with a wider gap between these groups. With labels (one
// per list, or nil) each row is named in a left margin, for example
// "input", "noisy", "output".
func CompareGrid(sets [][][]float32, labels []string, c, h, w, cols, scale int) (*image.NRGBA, error) {
	if len(sets) == 0 {
		return nil, fmt.Errorf("viz: compare grid of no image lists")
	}
	if labels != nil && len(labels) != len(sets) {
		return nil, fmt.Errorf("viz: compare grid: %d labels for %d image lists", len(labels), len(sets))
	}
	n := len(sets[0])
	for i, s := range sets {
		if len(s) != n {
			return nil, fmt.Errorf("viz: compare grid: list %d has %d images, list 0 has %d", i, len(s), n)
		}
		if err := checkGrid(s, c, h, w, cols, scale); err != nil {
			return nil, err
		}
	}
	margin := 0
	face := basicfont.Face7x13
	for _, l := range labels {
		margin = max(margin, font.MeasureString(face, l).Ceil()+2*gap)
	}
	groups := (n + cols - 1) / cols
	tw, th := w*scale+gap, h*scale+gap
	groupH := len(sets) * th
	img, err := newCanvas(margin+gap+cols*tw, gap+groups*groupH+(groups-1)*groupGap)
	if err != nil {
		return nil, err
	}
	d := font.Drawer{Dst: img, Src: image.NewUniform(textColor), Face: face}
	for g := range groups {
		y0 := gap + g*(groupH+groupGap)
		for r, s := range sets {
			y := y0 + r*th
			if labels != nil {
				// Baseline so the 13-pixel glyphs sit centred on the row.
				d.Dot = fixed.P(gap, y+(h*scale+face.Ascent-face.Descent)/2)
				d.DrawString(labels[r])
			}
			for k := range min(cols, n-g*cols) {
				drawTile(img, s[g*cols+k], c, h, w, scale, margin+gap+k*tw, y)
			}
		}
	}
	return img, nil
}

// WritePNG encodes img as PNG to w.
func WritePNG(w io.Writer, img image.Image) error {
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("viz: png: %w", err)
	}
	return nil
}

func checkGrid(images [][]float32, c, h, w, cols, scale int) error {
	switch {
	case len(images) == 0:
		return fmt.Errorf("viz: image grid of no images")
	case c < 1 || h < 1 || w < 1 || cols < 1 || scale < 1:
		return fmt.Errorf("viz: image grid of %dx%dx%d images, %d columns, scale %d: want all >= 1", c, h, w, cols, scale)
	}
	for i, im := range images {
		if len(im) != c*h*w {
			return fmt.Errorf("viz: image %d has %d values, want %d for %dx%dx%d", i, len(im), c*h*w, c, h, w)
		}
	}
	return nil
}

func newCanvas(w, h int) (*image.NRGBA, error) {
	if w > maxSide || h > maxSide {
		return nil, fmt.Errorf("viz: grid of %dx%d pixels is too large (limit %d a side)", w, h, maxSide)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	return img, nil
}

// drawTile paints one CHW image with its top-left corner at (x0, y0).
func drawTile(img *image.NRGBA, im []float32, c, h, w, scale, x0, y0 int) {
	hw := h * w
	for y := range h {
		for x := range w {
			var px color.NRGBA
			switch c {
			case 1:
				v := level(im[y*w+x])
				px = color.NRGBA{v, v, v, 0xff}
			case 3:
				px = color.NRGBA{level(im[y*w+x]), level(im[hw+y*w+x]), level(im[2*hw+y*w+x]), 0xff}
			default:
				var s float32
				for ch := range c {
					s += im[ch*hw+y*w+x]
				}
				v := level(s / float32(c))
				px = color.NRGBA{v, v, v, 0xff}
			}
			for dy := range scale {
				for dx := range scale {
					img.SetNRGBA(x0+x*scale+dx, y0+y*scale+dy, px)
				}
			}
		}
	}
}

// level maps [0, 1] to 0..255, clamping; NaN is 0.
func level(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(math.Round(float64(v) * 255))
}
