package imagefolder

import (
	"encoding/binary"
	"slices"
	"sort"
	"strings"
	"testing"
)

// tiffSpec describes a small uncompressed TIFF for makeTIFF: the cases no
// writer at hand produces (32-bit integers with predictor 2, big-endian
// 16-bit grey with alpha) and malformed headers.
type tiffSpec struct {
	be            bool
	w, h, rows    int // rows per strip
	bits, spp     int
	format, photo int
	predictor     int
	tags          map[uint16][]uint32 // extra or overriding tags
	samples       []uint32            // w*h*spp samples, before the predictor
}

func makeTIFF(s tiffSpec) []byte {
	type order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	var o order = binary.LittleEndian
	b := []byte("II*\x00\x00\x00\x00\x00")
	if s.be {
		o, b = binary.BigEndian, []byte("MM\x00*\x00\x00\x00\x00")
	}
	bps := s.bits / 8
	rowLen := s.w * s.spp
	put := func(p []byte, v uint32) {
		switch bps {
		case 1:
			p[0] = uint8(v)
		case 2:
			o.PutUint16(p, uint16(v))
		case 4:
			o.PutUint32(p, v)
		}
	}
	var offsets, counts []uint32
	for y0 := 0; y0 < s.h; y0 += s.rows {
		offsets = append(offsets, uint32(len(b)))
		n := 0
		for y := y0; y < min(y0+s.rows, s.h); y++ {
			row := s.samples[y*rowLen : (y+1)*rowLen]
			for i, v := range row {
				if s.predictor == 2 && i >= s.spp {
					v -= row[i-s.spp]
				}
				p := make([]byte, bps)
				put(p, v)
				b = append(b, p...)
				n += bps
			}
		}
		counts = append(counts, uint32(n))
	}
	tags := map[uint16][]uint32{
		tagWidth: {uint32(s.w)}, tagHeight: {uint32(s.h)}, tagBits: slices.Repeat([]uint32{uint32(s.bits)}, s.spp),
		tagCompression: {1}, tagPhotometric: {uint32(s.photo)}, tagStripOffsets: offsets, tagSamples: {uint32(s.spp)},
		tagRowsPerStrip: {uint32(s.rows)}, tagStripCounts: counts, tagSampleFormat: {uint32(s.format)},
		tagPredictor: {uint32(max(s.predictor, 1))},
	}
	for t, v := range s.tags {
		tags[t] = v
	}
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	o.PutUint32(b[4:], uint32(len(b)))
	keys := make([]int, 0, len(tags))
	for t := range tags {
		keys = append(keys, int(t))
	}
	sort.Ints(keys)
	ifd := o.AppendUint16(nil, uint16(len(keys)))
	var data []byte
	dataAt := len(b) + 2 + 12*len(keys) + 4
	for _, k := range keys {
		v := tags[uint16(k)]
		ifd = o.AppendUint16(ifd, uint16(k))
		ifd = o.AppendUint16(ifd, 4) // LONG
		ifd = o.AppendUint32(ifd, uint32(len(v)))
		if len(v) == 1 {
			ifd = o.AppendUint32(ifd, v[0])
			continue
		}
		ifd = o.AppendUint32(ifd, uint32(dataAt+len(data)))
		for _, x := range v {
			data = o.AppendUint32(data, x)
		}
	}
	ifd = o.AppendUint32(ifd, 0)
	b = append(append(b, ifd...), data...)
	return b
}

// TestTIFFHandMade decodes TIFFs no writer at hand makes, each way it can:
// 32-bit signed and unsigned integers with predictor 2 over several strips
// in both byte orders, and 16-bit grey with alpha.
func TestTIFFHandMade(t *testing.T) {
	signed := []int32{-70000, -1, 0, 1, 100, 255, 256, 65535, 1 << 30, -1 << 31, 7, 254}
	var s32, u16 []uint32
	for _, v := range signed {
		s32 = append(s32, uint32(v))
	}
	pil := []uint8{0, 0, 0, 1, 100, 255, 255, 255, 255, 0, 7, 254}
	for _, be := range []bool{false, true} {
		img, err := Decode(makeTIFF(tiffSpec{be: be, w: 4, h: 3, rows: 2, bits: 32, spp: 1, format: sampleInt,
			photo: photoBlackIsZero, predictor: 2, samples: s32}), 1, 0)
		if err != nil || !slices.Equal(img.Pix, pil) {
			t.Errorf("signed 32-bit, big-endian %v: %v, %v; want Pillow's %v", be, img, err, pil)
		}
	}
	// Unsigned, all in 0-65535 with some over 255: 16-bit data, which
	// ModeView scales by the high byte and ModePIL clips.
	for _, v := range []uint32{0, 255, 256, 0x1234, 0xff00, 0xffff} {
		u16 = append(u16, v)
	}
	b := makeTIFF(tiffSpec{be: true, w: 3, h: 2, rows: 1, bits: 32, spp: 1, format: sampleUint, photo: photoBlackIsZero, samples: u16})
	for m, want := range map[Mode][]uint8{ModeView: {0, 0, 1, 0x12, 0xff, 0xff}, ModePIL: {0, 255, 255, 255, 255, 255}} {
		img, err := DecodeMode(b, 1, 0, m)
		if err != nil || !slices.Equal(img.Pix, want) {
			t.Errorf("unsigned 32-bit %s: %v, %v; want %v", m, img, err, want)
		}
	}
	if d, err := Inspect(b); err != nil || d != (Depth{Bits: 32, Grey: true, Min: 0, Max: 0xffff}) {
		t.Errorf("Inspect: %+v, %v", d, err)
	}
	// 16-bit grey with alpha, big-endian, predictor 2: alpha dropped, the
	// 16-bit rule on the grey.
	la := []uint32{0x0100, 0xffff, 0x8000, 0, 0xff00, 0x1234}
	img, err := Decode(makeTIFF(tiffSpec{be: true, w: 3, h: 1, rows: 1, bits: 16, spp: 2, format: sampleUint,
		photo: photoBlackIsZero, predictor: 2, tags: map[uint16][]uint32{tagExtra: {2}}, samples: la}), 3, 0)
	if want := []uint8{1, 1, 1, 0x80, 0x80, 0x80, 0xff, 0xff, 0xff}; err != nil || !slices.Equal(img.Pix, want) {
		t.Errorf("16-bit grey+alpha: %v, %v; want %v", img, err, want)
	}
}

// TestTIFFRefused checks that what kiln's reader leaves out is refused with
// an error naming the format and the reason, never decoded wrongly.
func TestTIFFRefused(t *testing.T) {
	base := func() tiffSpec {
		return tiffSpec{w: 2, h: 2, rows: 2, bits: 32, spp: 1, format: sampleFloat, photo: photoBlackIsZero,
			samples: []uint32{0, 1, 2, 3}}
	}
	cases := map[string]func(*tiffSpec){
		"planar": func(s *tiffSpec) {
			s.bits, s.spp, s.format, s.samples = 8, 2, 1, make([]uint32, 8)
			s.tags = map[uint16][]uint32{tagExtra: {2}, tagPlanar: {2}}
		},
		"compression 7": func(s *tiffSpec) { s.tags = map[uint16][]uint32{tagCompression: {7}} },
		"predictor 3":   func(s *tiffSpec) { s.format = sampleInt; s.tags = map[uint16][]uint32{tagPredictor: {3}} },
		"64 bits":       func(s *tiffSpec) { s.tags = map[uint16][]uint32{tagBits: {64}} },
		"want 8 bits": func(s *tiffSpec) {
			s.bits, s.spp, s.format, s.photo, s.samples = 16, 2, 1, photoPalette, make([]uint32, 8)
			s.tags = map[uint16][]uint32{tagExtra: {2}, tagColorMap: make([]uint32, 3<<16)}
		},
		"past the end": func(s *tiffSpec) { s.tags = map[uint16][]uint32{tagStripCounts: {1000}} },
		"want 32-bit grey": func(s *tiffSpec) {
			s.format, s.spp, s.samples = sampleUint, 2, make([]uint32, 8)
			s.tags = map[uint16][]uint32{tagExtra: {2}}
		},
		"2 extra samples": func(s *tiffSpec) {
			s.format, s.bits, s.spp, s.samples = sampleUint, 8, 3, make([]uint32, 12)
			s.tags = map[uint16][]uint32{tagExtra: {2, 0}}
		},
		"white as zero": func(s *tiffSpec) { s.photo = photoWhiteIsZero },
		"colour map of": func(s *tiffSpec) {
			s.bits, s.spp, s.format, s.photo, s.samples = 8, 2, 1, photoPalette, make([]uint32, 8)
			s.tags = map[uint16][]uint32{tagExtra: {2}, tagColorMap: {1, 2, 3}}
		},
		"4 bits per sample": func(s *tiffSpec) {
			s.format, s.spp, s.samples = sampleUint, 2, make([]uint32, 8)
			s.tags = map[uint16][]uint32{tagExtra: {2}, tagBits: {4, 4}}
		},
		"16-bit float": func(s *tiffSpec) { s.tags = map[uint16][]uint32{tagBits: {16}} },
	}
	for reason, edit := range cases {
		s := base()
		edit(&s)
		_, err := Decode(makeTIFF(s), 3, 0)
		if err == nil || !strings.Contains(err.Error(), "imagefolder: tiff") || !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: %v", reason, err)
		}
	}
}
