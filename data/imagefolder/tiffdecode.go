package imagefolder

// This file holds the pixel half of kiln's TIFF reader (tiff.go holds the
// header): strips and tiles, decompression, predictors, and the images it
// returns. It leaves out what tiff.go leaves out.

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"golang.org/x/image/tiff"
	"golang.org/x/image/tiff/lzw"
)

// decodeTIFF is tiff.Decode, and kiln's reader for the files tiff.go names.
func decodeTIFF(r io.Reader) (image.Image, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	d, err := parseTIFF(b)
	if err == errNotOwn {
		return tiff.Decode(bytes.NewReader(b))
	}
	if err == nil {
		var img image.Image
		if img, err = d.decode(b); err == nil {
			return img, nil
		}
	}
	return nil, fmt.Errorf("tiff: %w", err)
}

// decode reads every strip or tile of b into one buffer of samples, in
// the file's byte order, then builds the image.
func (d *tiffIFD) decode(b []byte) (image.Image, error) {
	bps := d.bits / 8
	pixel := d.samples * bps
	stride := d.width * pixel
	raw := make([]byte, d.height*stride)
	across := (d.width + d.blockW - 1) / d.blockW
	down := (d.height + d.blockH - 1) / d.blockH
	for i := 0; i < across*down; i++ {
		x0, y0 := (i%across)*d.blockW, (i/across)*d.blockH
		rows := d.blockH
		if !d.tiled { // a strip: the last may be short
			rows = min(rows, d.height-y0)
		}
		blockStride := d.blockW * pixel
		block, err := d.inflate(b, i, rows*blockStride)
		if err != nil {
			return nil, fmt.Errorf("strip or tile %d: %w", i, err)
		}
		for y := 0; y < rows; y++ {
			row := block[y*blockStride : (y+1)*blockStride]
			d.unpredict(row, bps)
			if y0+y >= d.height {
				break
			}
			w := min(d.blockW, d.width-x0) * pixel
			copy(raw[(y0+y)*stride+x0*pixel:], row[:w])
		}
	}
	return d.image(raw)
}

// inflate returns the n bytes block i decompresses to.
func (d *tiffIFD) inflate(b []byte, i, n int) ([]byte, error) {
	off, count := d.offsets[i], d.counts[i]
	if off > uint64(len(b)) || count > uint64(len(b))-off {
		return nil, fmt.Errorf("%d bytes at %d run past the end of the file", count, off)
	}
	src := b[off : off+count]
	out := make([]byte, n)
	var r io.Reader
	switch d.compression {
	case compNone:
		if len(src) < n {
			return nil, fmt.Errorf("%d bytes, want %d", len(src), n)
		}
		copy(out, src)
		return out, nil
	case compPackBits:
		return out, unpackBits(out, src)
	case compLZW:
		lr := lzw.NewReader(bytes.NewReader(src), lzw.MSB, 8)
		defer lr.Close()
		r = lr
	default:
		zr, err := zlib.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	}
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	return out, nil
}

// unpackBits is PackBits decompression into out, which it must fill.
func unpackBits(out, src []byte) error {
	o := 0
	for i := 0; o < len(out); {
		if i >= len(src) {
			return fmt.Errorf("PackBits data ends after %d of %d bytes", o, len(out))
		}
		c := int8(src[i])
		i++
		switch {
		case c >= 0:
			n := int(c) + 1
			if i+n > len(src) || o+n > len(out) {
				return errors.New("PackBits literal runs past the data")
			}
			o += copy(out[o:], src[i:i+n])
			i += n
		case c != -128:
			n := 1 - int(c)
			if i >= len(src) || o+n > len(out) {
				return errors.New("PackBits run runs past the data")
			}
			for k := 0; k < n; k++ {
				out[o+k] = src[i]
			}
			o += n
			i++
		}
	}
	return nil
}

// unpredict undoes the predictor on one row of a strip or tile: 2 adds each
// sample to the one a pixel before; 3 (floating point) also splits the
// row's bytes into planes, most significant first, as libtiff's fpAcc.
func (d *tiffIFD) unpredict(row []byte, bps int) {
	s := d.samples
	switch d.predictor {
	case 2:
		switch bps {
		case 1:
			for i := s; i < len(row); i++ {
				row[i] += row[i-s]
			}
		case 2:
			for i := 2 * s; i+2 <= len(row); i += 2 {
				d.order.PutUint16(row[i:], d.order.Uint16(row[i:])+d.order.Uint16(row[i-2*s:]))
			}
		case 4:
			for i := 4 * s; i+4 <= len(row); i += 4 {
				d.order.PutUint32(row[i:], d.order.Uint32(row[i:])+d.order.Uint32(row[i-4*s:]))
			}
		}
	case 3:
		for i := s; i < len(row); i++ {
			row[i] += row[i-s]
		}
		wc := len(row) / bps
		planes := append([]byte(nil), row...)
		for k := 0; k < wc; k++ {
			var v uint32
			for p := 0; p < bps; p++ {
				v = v<<8 | uint32(planes[p*wc+k])
			}
			d.order.PutUint32(row[4*k:], v)
		}
	}
}

// image builds the decoded image from samples in the file's byte order:
// 32-bit grey as a wideGrey, 8-bit and 16-bit grey (alpha dropped) as
// image.Gray and image.Gray16, palette with alpha as image.Paletted and
// CMYK as image.CMYK (16-bit samples by their high byte).
func (d *tiffIFD) image(raw []byte) (image.Image, error) {
	rect := image.Rect(0, 0, d.width, d.height)
	n := d.width * d.height
	bps := d.bits / 8
	at := func(i, c int) []byte { return raw[(i*d.samples+c)*bps:] }
	invert := d.photometric == photoWhiteIsZero
	switch {
	case d.bits == 32:
		if invert {
			return nil, errors.New("32-bit samples with white as zero")
		}
		g := &wideGrey{Rect: rect, V: make([]float64, n), Float: d.format == sampleFloat}
		for i := range g.V {
			u := d.order.Uint32(at(i, 0))
			switch d.format {
			case sampleFloat:
				g.V[i] = float64(math.Float32frombits(u))
			case sampleInt:
				g.V[i] = float64(int32(u))
			default:
				g.V[i] = float64(u)
			}
		}
		return g, nil
	case d.colours == 4:
		m := image.NewCMYK(rect)
		for i := 0; i < n; i++ {
			for c := 0; c < 4; c++ {
				m.Pix[4*i+c] = at(i, c)[0]
				if bps == 2 {
					m.Pix[4*i+c] = uint8(d.order.Uint16(at(i, c)) >> 8)
				}
			}
		}
		return m, nil
	case d.photometric == photoPalette:
		pal := make(color.Palette, 256)
		for i := range pal {
			pal[i] = color.RGBA64{d.colormap[i], d.colormap[256+i], d.colormap[512+i], 0xffff}
		}
		m := image.NewPaletted(rect, pal)
		for i := range m.Pix {
			m.Pix[i] = at(i, 0)[0]
		}
		return m, nil
	case bps == 2:
		m := image.NewGray16(rect)
		for i := 0; i < n; i++ {
			v := d.order.Uint16(at(i, 0))
			if invert {
				v = 0xffff - v
			}
			m.Pix[2*i], m.Pix[2*i+1] = uint8(v>>8), uint8(v)
		}
		return m, nil
	}
	m := image.NewGray(rect)
	for i := range m.Pix {
		m.Pix[i] = at(i, 0)[0]
		if invert {
			m.Pix[i] = 255 - m.Pix[i]
		}
	}
	return m, nil
}
