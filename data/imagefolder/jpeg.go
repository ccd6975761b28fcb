package imagefolder

// This file holds the conversion of decoded JPEG planes the way libjpeg(-turbo)
// does it under PIL: "fancy" triangle-filter chroma upsampling and libjpeg's
// rounded YCbCr tables. Go's image/jpeg leaves chroma subsampled and
// (*image.YCbCr).At replicates it, which on sharp colour edges differs from
// what a PyTorch model saw in training by tens of levels. It leaves out the
// IDCT, which stays Go's (a difference of a level or two on some pixels), and
// fancy upsampling of the rare 4:4:0 layout.

import (
	"image"

	"github.com/kiln-ml/kiln/data/transform"
)

// libjpeg's ycc_rgb_convert tables (jdcolor.c, SCALEBITS 16).
var jpegCrR, jpegCbB, jpegCrG, jpegCbG [256]int32

func init() {
	const one = 1 << 16
	fix := func(v float64) int32 { return int32(v*one + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		jpegCrR[i] = (fix(1.40200)*x + one/2) >> 16
		jpegCbB[i] = (fix(1.77200)*x + one/2) >> 16
		jpegCrG[i] = -fix(0.71414) * x
		jpegCbG[i] = -fix(0.34414)*x + one/2
	}
}

func clampByte(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// jpegRGB is libjpeg's YCbCr to RGB conversion of one pixel.
func jpegRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := int32(y)
	return clampByte(yy + jpegCrR[cr]),
		clampByte(yy + ((jpegCbG[cb] + jpegCrG[cr]) >> 16)),
		clampByte(yy + jpegCbB[cb])
}

// convertJPEG converts a baseline JPEG's planes as libjpeg does. Layouts
// libjpeg upsamples by replication (4:4:4, 4:1:1, and chroma planes at most
// two samples wide) are replicated; 4:2:0 and 4:2:2 use the triangle filter.
func convertJPEG(out *transform.Image, src *image.YCbCr) {
	if src.Rect.Min != (image.Point{}) {
		convertYCbCrWith(out, src, libjpegRGB)
		return
	}
	w, h := out.W, out.H
	var vfancy bool
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		vfancy = true
	case image.YCbCrSubsampleRatio422:
	default:
		convertYCbCrWith(out, src, libjpegRGB)
		return
	}
	cw, ch := (w+1)/2, h
	if vfancy {
		ch = (h + 1) / 2
	}
	if cw <= 2 {
		convertYCbCrWith(out, src, libjpegRGB)
		return
	}
	sum := make([]int32, 2*cw) // column sums for Cb, then Cr
	up := make([]uint8, 2*w)   // upsampled Cb, then Cr, for one row
	for y := 0; y < h; y++ {
		for p, plane := range [2][]uint8{src.Cb, src.Cr} {
			s := sum[p*cw : (p+1)*cw]
			u := up[p*w : (p+1)*w]
			if vfancy {
				// Nearest chroma row times 3 plus the next nearest (above for
				// even rows, below for odd), edges replicated.
				cy := y / 2
				ny := cy - 1
				if y%2 == 1 {
					ny = cy + 1
				}
				ny = min(max(ny, 0), ch-1)
				near, next := plane[cy*src.CStride:], plane[ny*src.CStride:]
				for i := range s {
					s[i] = 3*int32(near[i]) + int32(next[i])
				}
				fancyRow(u, s, 8, 7, 4)
			} else {
				row := plane[y*src.CStride:]
				for i := range s {
					s[i] = int32(row[i])
				}
				fancyRow(u, s, 1, 2, 2)
			}
		}
		yrow := src.Y[y*src.YStride : y*src.YStride+w]
		dst := out.Pix[y*out.Stride() : (y+1)*out.Stride()]
		for x, yy := range yrow {
			R, G, B := jpegRGB(yy, up[x], up[w+x])
			if out.C == 1 {
				dst[x] = transform.Luma(R, G, B)
			} else {
				dst[3*x], dst[3*x+1], dst[3*x+2] = R, G, B
			}
		}
	}
}

// fancyRow doubles s horizontally into u (len(u) <= 2*len(s)) with libjpeg's
// 3:1 weights: out[2i] = (3s[i] + s[i-1] + even) >> shift and
// out[2i+1] = (3s[i] + s[i+1] + odd) >> shift, an edge sample standing in
// for its missing neighbour.
func fancyRow(u []uint8, s []int32, even, odd int32, shift uint) {
	n := len(s)
	for x := range u {
		i := x / 2
		var v int32
		if x%2 == 0 {
			v = 3*s[i] + s[max(i-1, 0)] + even
		} else {
			v = 3*s[i] + s[min(i+1, n-1)] + odd
		}
		u[x] = uint8(v >> shift)
	}
}
