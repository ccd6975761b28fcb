package imagefolder

// This file holds kiln's own TIFF header reader, for the files
// golang.org/x/image/tiff refuses and Pillow reads: 32-bit integer (Pillow
// mode I) and float (mode F) grey, grey with alpha (LA), palette with alpha
// (PA) and CMYK. Every other TIFF goes to golang.org/x/image/tiff. It reads
// the first image (IFD) of a file only, as Pillow's Image.open does, and
// leaves out JPEG and CCITT compression, separate planes, white-as-zero
// 32-bit samples and bits per sample other than 8, 16 and 32.
//
// 32-bit samples become 8 bits as Pillow's convert does (pilClip and
// wideGrey8 in depth.go); alpha is dropped, as convert drops it.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"

	"golang.org/x/image/tiff"
)

// TIFF tags, photometric interpretations, compressions and sample formats.
const (
	tagWidth        = 256
	tagHeight       = 257
	tagBits         = 258
	tagCompression  = 259
	tagPhotometric  = 262
	tagStripOffsets = 273
	tagSamples      = 277
	tagRowsPerStrip = 278
	tagStripCounts  = 279
	tagPlanar       = 284
	tagPredictor    = 317
	tagColorMap     = 320
	tagTileWidth    = 322
	tagTileLength   = 323
	tagTileOffsets  = 324
	tagTileCounts   = 325
	tagExtra        = 338
	tagSampleFormat = 339

	photoWhiteIsZero = 0
	photoBlackIsZero = 1
	photoRGB         = 2
	photoPalette     = 3
	photoCMYK        = 5

	compNone     = 1
	compLZW      = 5
	compDeflate  = 8
	compPackBits = 32773
	compDeflate0 = 32946 // the old, unregistered Deflate code

	sampleUint  = 1
	sampleInt   = 2
	sampleFloat = 3
)

// tiffIFD is what the first IFD of a TIFF file says, for the cases kiln
// reads itself.
type tiffIFD struct {
	order          binary.ByteOrder
	width, height  int
	bits           int // bits per sample, the same for every sample
	samples        int // samples per pixel, alpha included
	colours        int // colour samples: 1 (grey, palette) or 4 (CMYK)
	format         int // sampleUint, sampleInt or sampleFloat
	photometric    int
	compression    int
	predictor      int
	tiled          bool
	blockW, blockH int      // a strip is the whole width and RowsPerStrip rows
	offsets        []uint64 // one per strip or tile
	counts         []uint64
	colormap       []uint16 // 3 << bits entries: reds, greens, blues
}

// tiffValues reads the values of one IFD entry as unsigned integers.
func tiffValues(b []byte, order binary.ByteOrder, e []byte) ([]uint64, error) {
	typ, n := order.Uint16(e[2:]), uint64(order.Uint32(e[4:]))
	size := map[uint16]uint64{1: 1, 3: 2, 4: 4, 16: 8}[typ]
	if size == 0 {
		return nil, fmt.Errorf("tag %d has type %d, want an unsigned integer", order.Uint16(e), typ)
	}
	if n > uint64(len(b))/size {
		return nil, fmt.Errorf("tag %d holds %d values, more than the file", order.Uint16(e), n)
	}
	data := e[8:12]
	if n*size > 4 {
		off := uint64(order.Uint32(e[8:]))
		if off > uint64(len(b)) || n*size > uint64(len(b))-off {
			return nil, fmt.Errorf("tag %d: values at %d run past the end of the file", order.Uint16(e), off)
		}
		data = b[off : off+n*size]
	}
	out := make([]uint64, n)
	for i := range out {
		switch size {
		case 1:
			out[i] = uint64(data[i])
		case 2:
			out[i] = uint64(order.Uint16(data[2*i:]))
		case 4:
			out[i] = uint64(order.Uint32(data[4*i:]))
		case 8:
			out[i] = order.Uint64(data[8*i:])
		}
	}
	return out, nil
}

// errNotOwn marks a TIFF that golang.org/x/image/tiff reads.
var errNotOwn = errors.New("not a case kiln's TIFF reader takes")

// parseTIFF reads the first IFD of b. It returns errNotOwn for a file that
// golang.org/x/image/tiff reads, and an error for a malformed one.
func parseTIFF(b []byte) (*tiffIFD, error) {
	if len(b) < 8 {
		return nil, errors.New("short header")
	}
	var order binary.ByteOrder = binary.LittleEndian
	if b[0] == 'M' {
		order = binary.BigEndian
	}
	off := uint64(order.Uint32(b[4:]))
	if off < 8 || off+2 > uint64(len(b)) {
		return nil, fmt.Errorf("first IFD at %d, outside the file", off)
	}
	n := uint64(order.Uint16(b[off:]))
	if off+2+12*n > uint64(len(b)) {
		return nil, fmt.Errorf("IFD at %d with %d entries runs past the end of the file", off, n)
	}
	tags := map[uint16][]uint64{}
	for i := uint64(0); i < n; i++ {
		e := b[off+2+12*i : off+14+12*i]
		t := order.Uint16(e)
		switch t {
		case tagWidth, tagHeight, tagBits, tagCompression, tagPhotometric, tagStripOffsets, tagSamples,
			tagRowsPerStrip, tagStripCounts, tagPlanar, tagPredictor, tagColorMap, tagTileWidth,
			tagTileLength, tagTileOffsets, tagTileCounts, tagExtra, tagSampleFormat:
			v, err := tiffValues(b, order, e)
			if err != nil {
				return nil, err
			}
			tags[t] = v
		}
	}
	one := func(t uint16, def uint64) uint64 {
		if v := tags[t]; len(v) > 0 {
			return v[0]
		}
		return def
	}
	d := &tiffIFD{
		order:       order,
		samples:     int(min(one(tagSamples, 1), 64)),
		bits:        int(min(one(tagBits, 1), 64)),
		format:      int(min(one(tagSampleFormat, sampleUint), 64)),
		photometric: int(min(one(tagPhotometric, 1<<16), 1<<16)),
		compression: int(min(one(tagCompression, compNone), 1<<16)),
		predictor:   int(min(one(tagPredictor, 1), 1<<16)),
	}
	for _, v := range tags[tagBits] {
		if int(v) != d.bits {
			return nil, errNotOwn // x/image/tiff says what it thinks of mixed depths
		}
	}
	extra := len(tags[tagExtra])
	switch {
	case d.photometric == photoCMYK && d.samples-extra == 4:
		d.colours = 4
	case (d.photometric == photoBlackIsZero || d.photometric == photoWhiteIsZero || d.photometric == photoPalette) &&
		d.samples-extra == 1:
		d.colours = 1
	default:
		return nil, errNotOwn
	}
	// What x/image/tiff reads: 8- and 16-bit integer grey and palette
	// without alpha (and everything that is not CMYK or grey).
	if d.colours == 1 && d.samples == 1 && d.bits <= 16 && d.format != sampleFloat {
		return nil, errNotOwn
	}
	if extra > 1 {
		return nil, fmt.Errorf("%d extra samples, want at most 1 (alpha)", extra)
	}
	if one(tagPlanar, 1) != 1 && d.samples > 1 {
		return nil, errors.New("planar configuration 2 (separate planes) is not supported")
	}
	switch {
	case d.bits != 8 && d.bits != 16 && d.bits != 32:
		return nil, fmt.Errorf("%d bits per sample, want 8, 16 or 32", d.bits)
	case d.format == sampleFloat && (d.bits != 32 || d.samples != 1):
		return nil, fmt.Errorf("%d-bit float samples, %d a pixel; want 32-bit float grey", d.bits, d.samples)
	case d.format != sampleUint && d.format != sampleInt && d.format != sampleFloat:
		return nil, fmt.Errorf("sample format %d, want 1 (unsigned), 2 (signed) or 3 (float)", d.format)
	case d.bits == 32 && d.samples != 1:
		return nil, fmt.Errorf("32-bit samples with %d samples a pixel; want 32-bit grey", d.samples)
	case d.format == sampleInt && d.bits != 32:
		return nil, fmt.Errorf("%d-bit signed samples, want 32-bit", d.bits)
	case d.photometric == photoPalette && d.bits != 8:
		return nil, fmt.Errorf("%d-bit palette with alpha, want 8 bits", d.bits)
	}
	switch d.compression {
	case compNone, compLZW, compDeflate, compDeflate0, compPackBits:
	default:
		return nil, fmt.Errorf("compression %d, want none (1), LZW (5), Deflate (8) or PackBits (32773)", d.compression)
	}
	switch {
	case d.predictor == 1:
	case d.predictor == 2 && d.format != sampleFloat:
	case d.predictor == 3 && d.format == sampleFloat:
	default:
		return nil, fmt.Errorf("predictor %d for sample format %d", d.predictor, d.format)
	}
	w, h := one(tagWidth, 0), one(tagHeight, 0)
	if w == 0 || h == 0 || w > 1<<31 || h > 1<<31 {
		return nil, fmt.Errorf("image is %dx%d", w, h)
	}
	d.width, d.height = int(w), int(h)
	if _, ok := tags[tagTileOffsets]; ok {
		d.tiled = true
		d.blockW, d.blockH = int(min(one(tagTileWidth, 0), 1<<31)), int(min(one(tagTileLength, 0), 1<<31))
		d.offsets, d.counts = tags[tagTileOffsets], tags[tagTileCounts]
		if d.blockW <= 0 || d.blockH <= 0 || d.blockW > (d.width+15)&^15 || d.blockH > (d.height+15)&^15 {
			return nil, fmt.Errorf("tiles of %dx%d for a %dx%d image", d.blockW, d.blockH, d.width, d.height)
		}
	} else {
		d.blockW, d.blockH = d.width, int(min(one(tagRowsPerStrip, h), h))
		d.offsets, d.counts = tags[tagStripOffsets], tags[tagStripCounts]
		if d.blockH <= 0 {
			return nil, errors.New("0 rows per strip")
		}
	}
	across, down := (d.width+d.blockW-1)/d.blockW, (d.height+d.blockH-1)/d.blockH
	if len(d.offsets) < across*down || len(d.counts) < len(d.offsets) {
		return nil, fmt.Errorf("%d offsets and %d byte counts for %d strips or tiles", len(d.offsets), len(d.counts), across*down)
	}
	if d.photometric == photoPalette {
		d.colormap = make([]uint16, len(tags[tagColorMap]))
		for i, v := range tags[tagColorMap] {
			d.colormap[i] = uint16(v)
		}
		if len(d.colormap) != 3<<d.bits {
			return nil, fmt.Errorf("a colour map of %d entries, want %d", len(d.colormap), 3<<d.bits)
		}
	}
	return d, nil
}

// decodeTIFFConfig is tiff.DecodeConfig, and the size of a file kiln's
// reader takes.
func decodeTIFFConfig(r io.Reader) (image.Config, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return image.Config{}, err
	}
	d, err := parseTIFF(b)
	if err == errNotOwn {
		return tiff.DecodeConfig(bytes.NewReader(b))
	}
	if err != nil {
		return image.Config{}, fmt.Errorf("tiff: %w", err)
	}
	return image.Config{ColorModel: d.colorModel(), Width: d.width, Height: d.height}, nil
}

// colorModel is what the decoded image holds (before 32-bit samples become
// 8 bits).
func (d *tiffIFD) colorModel() color.Model {
	switch {
	case d.colours == 4:
		return color.CMYKModel
	case d.photometric == photoPalette:
		return color.RGBAModel
	case d.bits == 16:
		return color.Gray16Model
	case d.bits == 32:
		return wideGreyModel
	}
	return color.GrayModel
}
