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
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/bmp"
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
	fmtTIFF = format{"tiff", decodeTIFF, decodeTIFFConfig}
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
	case len(head) >= 3 && head[0] == 'P' && bytes.IndexByte([]byte("123456"), head[1]) >= 0 && isSpace(head[2]):
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
	if err != nil && strings.HasPrefix(err.Error(), f.name+":") {
		return nil, err // the decoder named its format already
	}
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
	c, err := decodeConfig(r, maxPixels)
	if err != nil {
		return Config{}, fmt.Errorf("imagefolder: %w", err)
	}
	return c, nil
}

// decodeConfig is DecodeConfig with the bare reason as its error.
func decodeConfig(r io.Reader, maxPixels int) (Config, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
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

var errNoQuickSize = errors.New("no quick size")

// quickSize reads the size of a JPEG (its first SOF segment) or PNG (IHDR)
// without allocating; for other formats it returns errNoQuickSize.
func quickSize(f format, b []byte) (w, h int, err error) {
	be16 := func(p []byte) int { return int(p[0])<<8 | int(p[1]) }
	switch f.name {
	case fmtPNG.name:
		if len(b) < 24 || string(b[12:16]) != "IHDR" {
			return 0, 0, errors.New("png header: missing IHDR")
		}
		return be16(b[16:])<<16 | be16(b[18:]), be16(b[20:])<<16 | be16(b[22:]), nil
	case fmtJPEG.name:
		// Walk the segments as image/jpeg does: junk before a marker, fill
		// bytes and "\xff\x00" are skipped, standalone markers have no length.
		for i := 2; ; {
			for i < len(b) && b[i] != 0xff {
				i++
			}
			for i+1 < len(b) && b[i+1] == 0xff {
				i++
			}
			if i+1 >= len(b) {
				return 0, 0, errors.New("jpeg header: no frame header")
			}
			m := b[i+1]
			switch {
			case m == 0:
				i += 2
				continue
			case m >= 0xd0 && m <= 0xd7 || m == 0x01:
				i += 2
				continue
			case m == 0xd9 || m == 0xda:
				return 0, 0, errors.New("jpeg header: no frame header")
			}
			if i+4 > len(b) {
				return 0, 0, errors.New("jpeg header: truncated")
			}
			n := be16(b[i+2:])
			if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc {
				if i+9 > len(b) || n < 7 {
					return 0, 0, errors.New("jpeg header: short frame header")
				}
				return be16(b[i+7:]), be16(b[i+5:]), nil
			}
			i += 2 + n
		}
	}
	return 0, 0, errNoQuickSize
}

// gifCanvas places a GIF's first frame on its logical screen, as PIL
// shows it, when the frame does not cover the whole screen; the rest is
// palette entry 0.
func gifCanvas(p *image.Paletted, w, h int) image.Image {
	if p.Rect == image.Rect(0, 0, w, h) {
		return p
	}
	c := image.NewPaletted(image.Rect(0, 0, w, h), p.Palette)
	r := p.Rect.Intersect(c.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(c.Pix[c.PixOffset(r.Min.X, y):c.PixOffset(r.Max.X, y)], p.Pix[p.PixOffset(r.Min.X, y):p.PixOffset(r.Max.X, y)])
	}
	return c
}

// Decode decodes an image file's bytes (JPEG, PNG, GIF, BMP, TIFF, WebP,
// PBM/PGM/PPM) to 8-bit pixels with channels 3 (RGB) or 1 (luma), as PIL's
// Image.open(...).convert("RGB" or "L") does. JPEG and lossy WebP chroma is
// upsampled and converted as libjpeg and libwebp do it (see jpeg.go and
// webp.go), CMYK by Pillow's formula (cmyk.go), 16-bit grey by the 16-bit
// rule and 32-bit TIFF grey as Pillow's modes I and F (depth.go, tiff.go);
// everything else goes through Convert. Images over
// maxPixels (0 means DefaultMaxPixels) are refused before any pixel is
// decoded.
func Decode(b []byte, channels, maxPixels int) (*transform.Image, error) {
	return DecodeMode(b, channels, maxPixels, ModeView)
}

// DecodeMode is Decode with a choice of how 16-bit grey becomes 8 bits:
// ModeView (Decode's) or ModePIL, Pillow's clipping.
func DecodeMode(b []byte, channels, maxPixels int, m Mode) (*transform.Image, error) {
	img, err := decode(b, channels, maxPixels, m)
	if err != nil {
		return nil, fmt.Errorf("imagefolder: %w", err)
	}
	return img, nil
}

// decode is DecodeMode with the bare reason as its error, for reports.
func decode(b []byte, channels, maxPixels int, m Mode) (*transform.Image, error) {
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("%d channels requested, want 1 or 3", channels)
	}
	if len(b) == 0 {
		return nil, errors.New("empty file")
	}
	f, ok := sniff(b[:min(len(b), 12)])
	if !ok {
		return nil, fmt.Errorf("%w (starts with %q)", errFormat, b[:min(len(b), 12)])
	}
	// The size guard: JPEG and PNG sizes are read in place, the rest through
	// the format's header decoder.
	var cfg image.Config
	w, h, err := quickSize(f, b)
	if err == errNoQuickSize {
		cfg, err = f.safeConfig(bytes.NewReader(b))
		w, h = cfg.Width, cfg.Height
	}
	if err != nil {
		return nil, err
	}
	if err := checkSize(w, h, maxPixels); err != nil {
		return nil, err
	}
	if f.name == fmtGIF.name {
		if c := gifOpaque(b); c != nil {
			b = c
		}
	}
	img, err := f.safeDecode(b)
	if fixed := withAdobe(b, err); fixed != nil && f.name == fmtJPEG.name {
		img, err = f.safeDecode(fixed)
	}
	if err != nil {
		return nil, err
	}
	if p, ok := img.(*image.Paletted); ok && f.name == fmtGIF.name {
		img = gifCanvas(p, w, h)
	}
	if r := img.Bounds(); r.Dx() != w || r.Dy() != h {
		return nil, fmt.Errorf("%s: header says %dx%d, pixels are %dx%d", f.name, w, h, r.Dx(), r.Dy())
	}
	if g := pngGrey16(b, img); g != nil && f.name == fmtPNG.name {
		img = g
	}
	if g, ok := img.(*image.Gray16); ok {
		return grey16(g, channels, m), nil
	}
	if g, ok := img.(*wideGrey); ok {
		return wideGrey8(g, channels, m), nil
	}
	// JPEG and lossy WebP leave chroma subsampled; convert it as the C
	// libraries under PIL do, not as (*image.YCbCr).At would.
	switch y := img.(type) {
	case *image.YCbCr:
		out := transform.NewImage(w, h, channels)
		if f.name == fmtJPEG.name {
			convertJPEG(out, y)
			return out, nil
		}
		if f.name == fmtWebP.name {
			convertWebP(out, y)
			return out, nil
		}
	case *image.NYCbCrA:
		if f.name == fmtWebP.name {
			out := transform.NewImage(w, h, channels)
			convertWebP(out, &y.YCbCr)
			return out, nil
		}
	}
	return Convert(img, channels), nil
}
