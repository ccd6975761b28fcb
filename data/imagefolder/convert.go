package imagefolder

// This file holds Convert: any decoded colour model to 8-bit RGB or luma,
// with fast paths for what the decoders return. It leaves out colour
// management (ICC profiles are ignored, as PIL's convert ignores them).

import (
	"image"
	"image/color"

	"github.com/kiln-ml/kiln/data/transform"
)

// Convert turns any decoded image into 8-bit RGB (channels 3) or luma
// (channels 1), as PIL's convert("RGB") / convert("L"): alpha is dropped,
// not composited, with premultiplied colours divided back out; CMYK by
// Pillow's formula; 16-bit samples keep their high byte (Decode applies the
// 16-bit rule of depth.go before this); luma uses PIL's ITU-R 601 weights. The
// common decoder outputs are converted without per-pixel interface calls.
func Convert(img image.Image, channels int) *transform.Image {
	r := img.Bounds()
	out := transform.NewImage(r.Dx(), r.Dy(), channels)
	if r.Empty() {
		return out
	}
	switch src := img.(type) {
	case *image.YCbCr:
		convertYCbCrWith(out, src, goRGB)
		return out
	case *image.NYCbCrA:
		convertYCbCrWith(out, &src.YCbCr, goRGB)
		return out
	case *image.RGBA:
		convertRGBA(out, src.Pix, src.Stride, r, true)
		return out
	case *image.NRGBA:
		convertRGBA(out, src.Pix, src.Stride, r, false)
		return out
	case *image.Gray:
		for y := 0; y < out.H; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+out.W]
			dst := out.Pix[y*out.Stride():]
			for x, v := range row {
				for c := 0; c < channels; c++ {
					dst[x*channels+c] = v
				}
			}
		}
		return out
	case *image.Paletted:
		convertPaletted(out, src)
		return out
	case *image.CMYK:
		convertCMYK(out, src)
		return out
	}
	// Everything else (16-bit, CMYK, gray16, alpha-only...) goes through the
	// colour model: rarer, and slower.
	for y := 0; y < out.H; y++ {
		for x := 0; x < out.W; x++ {
			c := color.NRGBA64Model.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA64)
			put(out, x, y, uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8))
		}
	}
	return out
}

func put(m *transform.Image, x, y int, r, g, b uint8) {
	i := (y*m.W + x) * m.C
	if m.C == 1 {
		m.Pix[i] = transform.Luma(r, g, b)
		return
	}
	m.Pix[i], m.Pix[i+1], m.Pix[i+2] = r, g, b
}

// ycc names a YCbCr-to-RGB arithmetic: Go's color.YCbCrToRGB or libjpeg's.
type ycc int

const (
	goRGB ycc = iota
	libjpegRGB
)

// convertYCbCrWith converts a YCbCr image row by row, replicating chroma and
// addressing it exactly as (*image.YCbCr).At does (Go's truncating
// division, so negative origins work too).
func convertYCbCrWith(out *transform.Image, src *image.YCbCr, conv ycc) {
	hd, vd := 1, 1 // chroma subsampling divisors
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hd = 2
	case image.YCbCrSubsampleRatio420:
		hd, vd = 2, 2
	case image.YCbCrSubsampleRatio440:
		vd = 2
	case image.YCbCrSubsampleRatio411:
		hd = 4
	case image.YCbCrSubsampleRatio410:
		hd, vd = 4, 2
	}
	r := src.Rect
	cx := make([]int, out.W)
	for x := range cx {
		cx[x] = (r.Min.X+x)/hd - r.Min.X/hd
	}
	c := out.C
	for y := 0; y < out.H; y++ {
		yrow := src.Y[y*src.YStride : y*src.YStride+out.W]
		crow := ((r.Min.Y+y)/vd - r.Min.Y/vd) * src.CStride
		cb, cr := src.Cb[crow:], src.Cr[crow:]
		dst := out.Pix[y*out.Stride() : (y+1)*out.Stride()]
		for x, yy := range yrow {
			var R, G, B uint8
			if conv == goRGB {
				R, G, B = color.YCbCrToRGB(yy, cb[cx[x]], cr[cx[x]])
			} else {
				R, G, B = jpegRGB(yy, cb[cx[x]], cr[cx[x]])
			}
			if c == 1 {
				dst[x] = transform.Luma(R, G, B)
			} else {
				dst[3*x], dst[3*x+1], dst[3*x+2] = R, G, B
			}
		}
	}
}

// convertRGBA copies 8-bit RGBA rows, dividing premultiplied colours by alpha
// exactly as color.NRGBAModel does.
func convertRGBA(out *transform.Image, pix []uint8, stride int, r image.Rectangle, premul bool) {
	c := out.C
	for y := 0; y < out.H; y++ {
		row := pix[y*stride : y*stride+4*out.W]
		dst := out.Pix[y*out.Stride() : (y+1)*out.Stride()]
		for x := 0; x < out.W; x++ {
			p := row[4*x : 4*x+4]
			R, G, B := p[0], p[1], p[2]
			if a := uint32(p[3]); premul && a != 0xff {
				R, G, B = unpremul(R, a), unpremul(G, a), unpremul(B, a)
			}
			if c == 1 {
				dst[x] = transform.Luma(R, G, B)
			} else {
				dst[3*x], dst[3*x+1], dst[3*x+2] = R, G, B
			}
		}
	}
}

func unpremul(v uint8, a uint32) uint8 {
	if a == 0 {
		return 0
	}
	return uint8(min((uint32(v)*0x101*0xffff/(a*0x101))>>8, 0xff))
}

// convertPaletted maps indices through the palette, alpha dropped.
func convertPaletted(out *transform.Image, src *image.Paletted) {
	var lut [256][3]uint8
	for i, pc := range src.Palette {
		if i == 256 {
			break
		}
		n := color.NRGBAModel.Convert(pc).(color.NRGBA)
		lut[i] = [3]uint8{n.R, n.G, n.B}
	}
	for y := 0; y < out.H; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+out.W]
		for x, idx := range row {
			p := lut[idx]
			put(out, x, y, p[0], p[1], p[2])
		}
	}
}
