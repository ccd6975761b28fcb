package imagefolder

// This file holds the conversion of decoded lossy WebP planes the way
// libwebp does it under PIL. VP8 is studio-swing BT.601 (luma 16..235), but
// golang.org/x/image/webp returns it as an *image.YCbCr, whose At applies
// JPEG's full-range formulas: colours come out washed and shifted by up to
// tens of levels. libwebp also upsamples chroma with a bilinear "fancy"
// filter. The VP8 planes themselves are bit-exact by the spec, so with both
// steps done as libwebp does them the pixels match PIL's exactly. It leaves
// out lossless WebP, which is RGB already.

import (
	"image"

	"github.com/kiln-ml/kiln/data/transform"
)

// webpClip is libwebp's VP8Clip8 for 6-bit fixed point.
func webpClip(v int32) uint8 {
	const mask = 256<<6 - 1
	if v&^mask == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

func multHi(v, c int32) int32 { return (v * c) >> 8 }

// webpRGB is libwebp's VP8YuvToRgb.
func webpRGB(y, u, v uint8) (uint8, uint8, uint8) {
	yy := multHi(int32(y), 19077)
	return webpClip(yy + multHi(int32(v), 26149) - 14234),
		webpClip(yy - multHi(int32(u), 6419) - multHi(int32(v), 13320) + 8708),
		webpClip(yy + multHi(int32(u), 33050) - 17685)
}

// convertWebP converts a lossy WebP's 4:2:0 planes with libwebp's fancy
// upsampler (EmitFancyRGB / UpsampleRgbLinePair): each output row mixes its
// nearer chroma row 3:1 with the next nearer (edges mirrored), and
// horizontally in libwebp's diagonal-averaging form.
func convertWebP(out *transform.Image, src *image.YCbCr) {
	if src.Rect.Min != (image.Point{}) || src.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		convertYCbCrWith(out, src, goRGB)
		return
	}
	w, h := out.W, out.H
	cw, ch := (w+1)/2, (h+1)/2
	up := make([]uint8, 2*w) // upsampled U, then V, for one row
	for y := 0; y < h; y++ {
		near := y / 2
		far := near - 1
		if y%2 == 1 {
			far = near + 1
		}
		far = min(max(far, 0), ch-1)
		for p, plane := range [2][]uint8{src.Cb, src.Cr} {
			n := plane[near*src.CStride : near*src.CStride+cw]
			f := plane[far*src.CStride : far*src.CStride+cw]
			webpFancyRow(up[p*w:(p+1)*w], n, f)
		}
		yrow := src.Y[y*src.YStride : y*src.YStride+w]
		dst := out.Pix[y*out.Stride() : (y+1)*out.Stride()]
		for x, yy := range yrow {
			R, G, B := webpRGB(yy, up[x], up[w+x])
			if out.C == 1 {
				dst[x] = transform.Luma(R, G, B)
			} else {
				dst[3*x], dst[3*x+1], dst[3*x+2] = R, G, B
			}
		}
	}
}

// webpFancyRow upsamples one chroma row pair (n nearer, f farther) to len(u)
// samples, as libwebp's UPSAMPLE_FUNC does for one output row.
func webpFancyRow(u []uint8, n, f []uint8) {
	w := len(u)
	u[0] = uint8((3*int32(n[0]) + int32(f[0]) + 2) >> 2)
	for x := 1; x <= (w-1)/2; x++ {
		nl, nr := int32(n[x-1]), int32(n[x])
		fl, fr := int32(f[x-1]), int32(f[x])
		avg := nl + nr + fl + fr + 8
		u[2*x-1] = uint8((((avg + 2*(nr+fl)) >> 3) + nl) >> 1)
		u[2*x] = uint8((((avg + 2*(nl+fr)) >> 3) + nr) >> 1)
	}
	if w%2 == 0 {
		last := w/2 - 1
		u[w-1] = uint8((3*int32(n[last]) + int32(f[last]) + 2) >> 2)
	}
}
