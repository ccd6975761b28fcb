package imagefolder

// This file holds CMYK as Pillow converts it: its formula to RGB, and a
// 4-component JPEG without an Adobe APP14 segment, which image/jpeg refuses
// and Pillow reads as Adobe-inverted CMYK, as it reads every CMYK JPEG. It
// leaves out colour management: ICC profiles are ignored, as Pillow's
// convert ignores them.

import (
	"bytes"
	"image"
	"strings"

	"github.com/kiln-ml/kiln/data/transform"
)

// cmykRGB is Pillow's cmyk2rgb: each of C, M, Y scaled by the white left
// after K, with Pillow's rounded division by 255.
func cmykRGB(c, m, y, k uint8) (uint8, uint8, uint8) {
	nk := 255 - int32(k)
	f := func(v uint8) uint8 {
		t := int32(v)*nk + 128
		return clampByte(nk - ((t>>8)+t)>>8)
	}
	return f(c), f(m), f(y)
}

// convertCMYK converts CMYK samples (0 no ink, 255 full ink, as
// image.CMYK holds them) to RGB or luma by way of RGB, as Pillow's
// convert("L") goes through RGB for CMYK.
func convertCMYK(out *transform.Image, src *image.CMYK) {
	for y := 0; y < out.H; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+4*out.W]
		for x := 0; x < out.W; x++ {
			p := row[4*x : 4*x+4]
			r, g, b := cmykRGB(p[0], p[1], p[2], p[3])
			put(out, x, y, r, g, b)
		}
	}
}

// adobeAPP14 is an Adobe segment saying "no transform": the samples are
// CMYK, stored inverted.
var adobeAPP14 = []byte("\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00")

// withAdobe returns a JPEG's bytes with adobeAPP14 after its SOI marker,
// when image/jpeg refused it (err) for having none; otherwise nil.
func withAdobe(b []byte, err error) []byte {
	if err == nil || !strings.Contains(err.Error(), "doesn't have Adobe APP14") || !bytes.HasPrefix(b, []byte("\xff\xd8")) {
		return nil
	}
	return append(append(append(make([]byte, 0, len(b)+len(adobeAPP14)), b[:2]...), adobeAPP14...), b[2:]...)
}
