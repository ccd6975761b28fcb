package imagefolder

// This file holds a decoder for the Netpbm gray and colour formats (.pgm,
// .ppm; P2, P3, P5, P6), which torchvision's extension list includes and Go
// has no package for, and bitmaps (P1, P4), which Pillow writes for a mode
// "1" image saved as .ppm or .pgm. It leaves out PAM (P7).

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
)

type pnmHeader struct {
	magic        byte // '2', '3', '5' or '6'
	w, h, maxval int
	channels     int
	binary, wide bool // raw samples; two bytes per sample
	bitmap       bool // P1 or P4: one bit per pixel, 1 black
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

// pnmInt reads one decimal header or ASCII-raster number, skipping
// whitespace and # comments before it.
func pnmInt(br *bufio.Reader) (int, error) {
	var b byte
	var err error
	for {
		if b, err = br.ReadByte(); err != nil {
			return 0, err
		}
		for b == '#' { // a comment runs to the end of the line
			for b != '\n' && b != '\r' {
				if b, err = br.ReadByte(); err != nil {
					return 0, err
				}
			}
		}
		if !isSpace(b) {
			break
		}
	}
	v, digits := 0, 0
	for ; b >= '0' && b <= '9'; digits++ {
		if digits == 9 {
			return 0, errors.New("number too long")
		}
		v = v*10 + int(b-'0')
		if b, err = br.ReadByte(); err != nil {
			if err == io.EOF {
				return v, nil // the last ASCII sample may end the file
			}
			return 0, err
		}
	}
	if digits == 0 {
		return 0, fmt.Errorf("expected a number, found %q", b)
	}
	if !isSpace(b) {
		return 0, fmt.Errorf("expected whitespace after a number, found %q", b)
	}
	return v, nil
}

func readPNMHeader(br *bufio.Reader) (pnmHeader, error) {
	var magic [2]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return pnmHeader{}, err
	}
	h := pnmHeader{magic: magic[1]}
	switch {
	case magic[0] != 'P':
		return h, errors.New("pnm: bad magic")
	case h.magic == '1' || h.magic == '4':
		h.channels, h.bitmap = 1, true
	case h.magic == '2' || h.magic == '5':
		h.channels = 1
	case h.magic == '3' || h.magic == '6':
		h.channels = 3
	default:
		return h, fmt.Errorf("pnm: unsupported type P%c", h.magic)
	}
	h.binary = h.magic == '4' || h.magic == '5' || h.magic == '6'
	var err error
	fields := []*int{&h.w, &h.h, &h.maxval}
	if h.bitmap {
		h.maxval, fields = 1, fields[:2]
	}
	for _, p := range fields {
		if *p, err = pnmInt(br); err != nil {
			return h, fmt.Errorf("pnm header: %w", err)
		}
	}
	if h.w <= 0 || h.h <= 0 || h.maxval <= 0 || h.maxval > 65535 {
		return h, fmt.Errorf("pnm: bad header %dx%d maxval %d", h.w, h.h, h.maxval)
	}
	h.wide = h.maxval > 255
	return h, nil
}

func configPNM(r io.Reader) (image.Config, error) {
	h, err := readPNMHeader(bufio.NewReader(r))
	if err != nil {
		return image.Config{}, err
	}
	model := color.GrayModel
	if h.wide {
		model = color.Gray16Model
	}
	if h.channels == 3 {
		model = color.NRGBAModel
	}
	return image.Config{ColorModel: model, Width: h.w, Height: h.h}, nil
}

// decodePNM returns an *image.Gray or an opaque *image.NRGBA, samples scaled
// from [0, maxval] to [0, 255] as Pillow's PPM decoder rounds them; grey
// with a maxval over 255 is an *image.Gray16 scaled to [0, 65535] the same
// way (raw at maxval 65535), which the 16-bit rule then converts.
func decodePNM(r io.Reader) (image.Image, error) {
	br := bufio.NewReader(r)
	h, err := readPNMHeader(br)
	if err != nil {
		return nil, err
	}
	if h.w > 1<<20 || h.h > 1<<20 || h.w*h.h > 1<<30 {
		return nil, fmt.Errorf("pnm: %dx%d is too large", h.w, h.h)
	}
	n := h.w * h.h * h.channels
	if h.channels == 1 && h.wide {
		return decodePGM16(br, h)
	}
	if h.bitmap {
		return decodePBM(br, h)
	}
	samples := make([]uint8, n)
	scale := func(v int) (uint8, error) {
		if v > h.maxval {
			return 0, fmt.Errorf("pnm: sample %d over maxval %d", v, h.maxval)
		}
		return uint8(pilScale(v, h.maxval, 255)), nil
	}
	switch {
	case h.binary && !h.wide:
		if _, err := io.ReadFull(br, samples); err != nil {
			return nil, fmt.Errorf("pnm pixels: %w", err)
		}
		if h.maxval != 255 {
			for i, v := range samples {
				if samples[i], err = scale(int(v)); err != nil {
					return nil, err
				}
			}
		}
	case h.binary:
		var b [2]byte
		for i := range samples {
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return nil, fmt.Errorf("pnm pixels: %w", err)
			}
			if samples[i], err = scale(int(b[0])<<8 | int(b[1])); err != nil {
				return nil, err
			}
		}
	default:
		for i := range samples {
			v, err := pnmInt(br)
			if err != nil {
				return nil, fmt.Errorf("pnm pixel %d: %w", i, err)
			}
			if samples[i], err = scale(v); err != nil {
				return nil, err
			}
		}
	}
	rect := image.Rect(0, 0, h.w, h.h)
	if h.channels == 1 {
		return &image.Gray{Pix: samples, Stride: h.w, Rect: rect}, nil
	}
	img := image.NewNRGBA(rect)
	for i := 0; i < h.w*h.h; i++ {
		copy(img.Pix[4*i:4*i+3], samples[3*i:3*i+3])
		img.Pix[4*i+3] = 0xff
	}
	return img, nil
}

// pilScale is Pillow's round(value / maxval * top), rounding half to even
// as Python does.
func pilScale(v, maxval, top int) int {
	if maxval == top {
		return v
	}
	return int(math.RoundToEven(float64(v) / float64(maxval) * float64(top)))
}

// decodePGM16 reads the samples of a grey PNM with maxval over 255.
func decodePGM16(br *bufio.Reader, h pnmHeader) (image.Image, error) {
	g := image.NewGray16(image.Rect(0, 0, h.w, h.h))
	var b [2]byte
	for i := 0; i < h.w*h.h; i++ {
		var v int
		if h.binary {
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return nil, fmt.Errorf("pnm pixels: %w", err)
			}
			v = int(b[0])<<8 | int(b[1])
		} else {
			var err error
			if v, err = pnmInt(br); err != nil {
				return nil, fmt.Errorf("pnm pixel %d: %w", i, err)
			}
		}
		if v > h.maxval {
			return nil, fmt.Errorf("pnm: sample %d over maxval %d", v, h.maxval)
		}
		v = pilScale(v, h.maxval, 65535)
		g.Pix[2*i], g.Pix[2*i+1] = uint8(v>>8), uint8(v)
	}
	return g, nil
}

// decodePBM reads a bitmap's pixels (P4: rows of bits padded to a byte;
// P1: '0' and '1' characters) as an *image.Gray, 1 (ink) black, as Pillow's
// mode "1" converts.
func decodePBM(br *bufio.Reader, h pnmHeader) (image.Image, error) {
	g := image.NewGray(image.Rect(0, 0, h.w, h.h))
	if h.binary {
		row := make([]byte, (h.w+7)/8)
		for y := 0; y < h.h; y++ {
			if _, err := io.ReadFull(br, row); err != nil {
				return nil, fmt.Errorf("pbm pixels: %w", err)
			}
			for x := 0; x < h.w; x++ {
				if row[x/8]&(0x80>>(x%8)) == 0 {
					g.Pix[y*h.w+x] = 255
				}
			}
		}
		return g, nil
	}
	for i := range g.Pix {
		b, err := br.ReadByte()
		for err == nil && (isSpace(b) || b == '#') {
			if b == '#' {
				for err == nil && b != '\n' && b != '\r' {
					b, err = br.ReadByte()
				}
				continue
			}
			b, err = br.ReadByte()
		}
		if err != nil {
			return nil, fmt.Errorf("pbm pixel %d: %w", i, err)
		}
		switch b {
		case '0':
			g.Pix[i] = 255
		case '1':
		default:
			return nil, fmt.Errorf("pbm pixel %d: %q is not 0 or 1", i, b)
		}
	}
	return g, nil
}
