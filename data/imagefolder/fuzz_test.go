package imagefolder

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that no byte sequence crashes decoding and conversion,
// and that whatever decodes is a well-formed image of the asked channels.
// The seeds are a file of every format, whole and cut short, and TIFFs
// only kiln's own reader takes.
func FuzzDecode(f *testing.F) {
	names, err := filepath.Glob("testdata/img/*")
	if err != nil || len(names) == 0 {
		f.Fatalf("no seed images: %v", err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
		f.Add(b[:len(b)/2], false)
	}
	f.Add([]byte("P3 2 2 255 1 2 3 4 5 6 7 8 9 10 11 12"), true)
	f.Add([]byte("P5\n#c\n2 1\n65535\n\x01\x02\x03\x04"), false)
	f.Add([]byte("P1\n3 2\n0 1 1\n100"), true)
	f.Add([]byte("P4 9 1 \xff\x80"), false)
	// kiln's TIFF reader (tiff.go): 32-bit integers with predictor 2 over
	// strips, big-endian 16-bit grey with alpha; testdata/img holds the
	// float, LA, PA and CMYK files with every compression.
	f.Add(makeTIFF(tiffSpec{be: true, w: 2, h: 3, rows: 2, bits: 32, spp: 1, format: sampleInt,
		photo: photoBlackIsZero, predictor: 2, samples: []uint32{1, 1 << 31, 300, 0, 7, 65535}}), true)
	f.Add(makeTIFF(tiffSpec{w: 2, h: 1, rows: 1, bits: 16, spp: 2, format: sampleUint, photo: photoBlackIsZero,
		predictor: 2, tags: map[uint16][]uint32{tagExtra: {2}}, samples: []uint32{1, 2, 3, 4}}), false)
	f.Fuzz(func(t *testing.T, b []byte, rgb bool) {
		c := 1
		if rgb {
			c = 3
		}
		if d, err := Inspect(b); err == nil && (d.Bits != 8 && d.Bits != 16 && d.Bits != 32 || d.Min > d.Max && d.Bits > 8) {
			t.Fatalf("Inspect says %+v", d)
		}
		img, err := Decode(b, c, 1<<16)
		if err != nil {
			return
		}
		if img.C != c || img.W <= 0 || img.H <= 0 || len(img.Pix) != img.W*img.H*c || img.W*img.H > 1<<16 {
			t.Fatalf("decoded a malformed image %dx%dx%d with %d bytes", img.W, img.H, img.C, len(img.Pix))
		}
	})
}
