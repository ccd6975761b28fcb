package imagefolder

// This file holds decoding: format sniffing, the size guard, and conversion
// of any decoded colour model to 8-bit RGB or luma. It leaves out EXIF
// orientation (PIL's loader ignores it too), colour profiles and animation
// (only a GIF's first frame is read, as PIL does).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/kiln-ml/kiln/data/transform"
)

// DefaultMaxPixels is the largest image Decode accepts, twice PIL's
// decompression-bomb warning size: a few bytes of header must not be able
// to make the decoder allocate gigabytes.
const DefaultMaxPixels = 2 * 89478485

type format struct {
	name   string
	decode func(io.Reader) (image.Image, error)
	config func(io.Reader) (image.Config, error)
}

var (
	fmtJPEG = format{"jpeg", jpeg.Decode, jpeg.DecodeConfig}
	fmtPNG  = format{"png", png.Decode, png.DecodeConfig}
	fmtGIF  = format{"gif", gif.Decode, gif.DecodeConfig}
	fmtBMP  = format{"bmp", bmp.Decode, bmp.DecodeConfig}
	fmtTIFF = format{"tiff", tiff.Decode, tiff.DecodeConfig}
	fmtWebP = format{"webp", webp.Decode, webp.DecodeConfig}
	fmtPNM  = format{"pnm", decodePNM, configPNM}
)

// sniff picks the decoder from the first bytes, as PIL does: the content
// decides, never the file name.
func sniff(head []byte) (format, bool) {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xd8")):
		return fmtJPEG, true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return fmtPNG, true
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return fmtGIF, true
	case bytes.HasPrefix(head, []byte("BM")):
		return fmtBMP, true
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return fmtTIFF, true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return fmtWebP, true
	case len(head) >= 3 && head[0] == 'P' && bytes.IndexByte([]byte("2356"), head[1]) >= 0 && isSpace(head[2]):
		return fmtPNM, true
	}
	return format{}, false
}

// safeDecode runs the decoder, turning a panic inside it into an error: one
// hostile file must not bring down a training run.
func (f format) safeDecode(b []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%s decoder failed: %v", f.name, r)
		}
	}()
	img, err = f.decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	return img, nil
}

// safeConfig is safeDecode for headers.
func (f format) safeConfig(r io.Reader) (c image.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s header decoder failed: %v", f.name, r)
		}
	}()
	c, err = f.config(r)
	if err != nil {
		return c, fmt.Errorf("%s header: %w", f.name, err)
	}
	return c, nil
}

// Config is what a header check learns about an image file.
type Config struct {
	Format        string
	Width, Height int
}

// errFormat marks data that is not any supported image format.
var errFormat = errors.New("not a supported image format")

func headerOf(r *bufio.Reader) (format, error) {
	head, err := r.Peek(12)
	if len(head) == 0 {
		if err == io.EOF {
			return format{}, errors.New("empty file")
		}
		return format{}, err
	}
	f, ok := sniff(head)
	if !ok {
		return format{}, fmt.Errorf("%w (starts with %q)", errFormat, head)
	}
	return f, nil
}

// DecodeConfig reads only the header from r, and checks the size against
// maxPixels (0 means DefaultMaxPixels).
func DecodeConfig(r io.Reader, maxPixels int) (Config, error) {
	br := bufio.NewReader(r)
	f, err := headerOf(br)
	if err != nil {
		return Config{}, err
	}
	c, err := f.safeConfig(br)
	if err != nil {
		return Config{}, err
	}
	if err := checkSize(c.Width, c.Height, maxPixels); err != nil {
		return Config{}, err
	}
	return Config{Format: f.name, Width: c.Width, Height: c.Height}, nil
}

func checkSize(w, h, maxPixels int) error {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("image is %dx%d", w, h)
	}
	if w > maxPixels/h {
		return fmt.Errorf("image is %dx%d, over the %d-pixel limit", w, h, maxPixels)
	}
	return nil
}

// Decode decodes an image file's bytes (JPEG, PNG, GIF, BMP, TIFF, WebP,
// PGM/PPM) to 8-bit pixels with channels 3 (RGB) or 1 (luma), as PIL's
// Image.open(...).convert("RGB" or "L"). Images over maxPixels (0 means
// DefaultMaxPixels) are refused before any pixel is decoded.
func Decode(b []byte, channels, maxPixels int) (*transform.Image, error) {
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("imagefolder: %d channels requested, want 1 or 3", channels)
	}
	cfg, err := DecodeConfig(bytes.NewReader(b), maxPixels)
	if err != nil {
		return nil, err
	}
	f, _ := sniff(b[:min(len(b), 12)])
	img, err := f.safeDecode(b)
	if err != nil {
		return nil, err
	}
	if r := img.Bounds(); r.Dx() != cfg.Width || r.Dy() != cfg.Height {
		return nil, fmt.Errorf("%s: header says %dx%d, pixels are %dx%d", f.name, cfg.Width, cfg.Height, r.Dx(), r.Dy())
	}
	return Convert(img, channels), nil
}

// Convert turns any decoded image into 8-bit RGB (channels 3) or luma
// (channels 1), as PIL's convert("RGB") / convert("L"): alpha is dropped,
// not composited, with premultiplied colours divided back out; 16-bit
// samples keep their high byte; luma uses PIL's ITU-R 601 weights. The
// common decoder outputs are converted without per-pixel interface calls.
func Convert(img image.Image, channels int) *transform.Image {
	r := img.Bounds()
	out := transform.NewImage(r.Dx(), r.Dy(), channels)
	if r.Empty() {
		return out
	}
	switch src := img.(type) {
	case *image.YCbCr:
		convertYCbCr(out, src)
		return out
	case *image.NYCbCrA:
		convertYCbCr(out, &src.YCbCr)
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

// convertYCbCr converts a JPEG/WebP image row by row with Go's own
// YCbCr-to-RGB arithmetic, addressing chroma exactly as (*image.YCbCr).At
// does (Go's truncating division, so negative origins work too).
func convertYCbCr(out *transform.Image, src *image.YCbCr) {
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
			R, G, B := color.YCbCrToRGB(yy, cb[cx[x]], cr[cx[x]])
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
