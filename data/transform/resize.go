package transform

// This file holds Resize and the PIL resampler behind it. It leaves out
// PIL's box/hamming/lanczos filters and the reducing_gap shortcut, which
// torchvision never uses.

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Resize scales an image the way torchvision.transforms.Resize does on a PIL
// image. With H and W both set the output is exactly H×W; otherwise Size is
// the length of the shorter side and the longer side keeps the aspect ratio
// (truncated, as torchvision computes it).
//
// Bilinear and bicubic are PIL's convolution resamplers, which widen the
// filter on downscaling (torchvision's antialias=True, always on for PIL
// images) and work in 22-bit fixed point, one pass per axis.
type Resize struct {
	Size   int
	H, W   int
	Interp Interpolation // default bilinear
}

// Target returns the output width and height for a w×h input.
func (r Resize) Target(w, h int) (int, int) {
	if r.H > 0 && r.W > 0 {
		return r.W, r.H
	}
	if w <= h {
		return r.Size, int(float64(r.Size*h) / float64(w))
	}
	return int(float64(r.Size*w) / float64(h)), r.Size
}

// Apply implements Transform.
func (r Resize) Apply(m *Image, _ *rand.Rand) *Image {
	w, h := r.Target(m.W, m.H)
	return ResizeImage(m, w, h, r.Interp)
}

// OutSize implements Transform.
func (r Resize) OutSize(w, h, c int) (int, int, int) {
	ow, oh := r.Target(w, h)
	return ow, oh, c
}

// String implements Transform.
func (r Resize) String() string {
	s := fmt.Sprintf("resize=%d", r.Size)
	if r.H > 0 && r.W > 0 {
		s = fmt.Sprintf("resize=%dx%d", r.H, r.W)
	}
	if r.Interp != InterpDefault {
		s += ":" + r.Interp.String()
	}
	return s
}

// ResizeImage returns m scaled to w×h with PIL's Image.resize. A same-size
// resize returns m itself (PIL copies; the pixels are the same).
func ResizeImage(m *Image, w, h int, interp Interpolation) *Image {
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("transform: resize to %dx%d", w, h))
	}
	if w == m.W && h == m.H {
		return m
	}
	switch interp.or(Bilinear) {
	case Nearest:
		return resizeNearest(m, w, h)
	case Bicubic:
		return resample(m, w, h, bicubicFilter)
	default:
		return resample(m, w, h, bilinearFilter)
	}
}

// resizeNearest is PIL's ImagingScaleAffine: source coordinates accumulate
// in double precision from half a step, and truncate.
func resizeNearest(m *Image, w, h int) *Image {
	out := NewImage(w, h, m.C)
	sx := float64(float32(m.W)) / float64(w)
	sy := float64(float32(m.H)) / float64(h)
	xin := make([]int, w)
	xo := sx * 0.5
	for x := range xin {
		xin[x] = min(int(xo), m.W-1)
		xo += sx
	}
	c := m.C
	yo := sy * 0.5
	for y := 0; y < h; y++ {
		row := m.Pix[min(int(yo), m.H-1)*m.Stride():]
		dst := out.Pix[y*out.Stride():]
		for x, sxi := range xin {
			copy(dst[x*c:x*c+c], row[sxi*c:sxi*c+c])
		}
		yo += sy
	}
	return out
}

// A filter is one of PIL's resampling kernels with its support radius.
type filter struct {
	support float64
	fn      func(float64) float64
}

var (
	bilinearFilter = filter{1, func(x float64) float64 {
		x = math.Abs(x)
		if x < 1 {
			return 1 - x
		}
		return 0
	}}
	bicubicFilter = filter{2, func(x float64) float64 {
		const a = -0.5
		x = math.Abs(x)
		if x < 1 {
			return ((a+2)*x-(a+3))*x*x + 1
		}
		if x < 2 {
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}}
)

// precisionBits is PIL's fixed-point precision for 8-bit resampling.
const precisionBits = 32 - 8 - 2

// coeffs is PIL's precompute_coeffs followed by normalize_coeffs_8bpc: for
// each output position, the first input index, the tap count, and ksize
// fixed-point weights.
func coeffs(inSize, outSize int, f filter) (bounds []int, kk []int32, ksize int) {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := f.support * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*outSize)
	kk = make([]int32, outSize*ksize)
	w := make([]float64, ksize)
	ss := 1 / filterscale
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w[x] = f.fn((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		k := kk[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return bounds, kk, ksize
}

func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resample is PIL's ImagingResampleInner: a horizontal pass over only the
// rows the vertical pass reads, rounded to 8 bits, then a vertical pass.
func resample(m *Image, w, h int, f filter) *Image {
	c := m.C
	src := m
	if w != m.W {
		hb, hk, hks := coeffs(m.W, w, f)
		vb, _, _ := coeffs(m.H, h, f)
		first, last := 0, m.H
		if h != m.H {
			first, last = vb[0], vb[2*h-2]+vb[2*h-1]
		}
		tmp := NewImage(w, last-first, c)
		for y := first; y < last; y++ {
			in := m.Pix[y*m.Stride() : (y+1)*m.Stride()]
			out := tmp.Pix[(y-first)*tmp.Stride():]
			for xx := 0; xx < w; xx++ {
				xmin, n := hb[2*xx], hb[2*xx+1]
				k := hk[xx*hks : xx*hks+n]
				if c == 3 { // the common case, all channels in one pass over the taps
					s0, s1, s2 := int32(1<<(precisionBits-1)), int32(1<<(precisionBits-1)), int32(1<<(precisionBits-1))
					px := in[xmin*3 : (xmin+n)*3]
					for i, kv := range k {
						s0 += int32(px[3*i]) * kv
						s1 += int32(px[3*i+1]) * kv
						s2 += int32(px[3*i+2]) * kv
					}
					out[3*xx], out[3*xx+1], out[3*xx+2] = clip8(s0), clip8(s1), clip8(s2)
					continue
				}
				for ch := 0; ch < c; ch++ {
					ss := int32(1 << (precisionBits - 1))
					p := xmin*c + ch
					for _, kv := range k {
						ss += int32(in[p]) * kv
						p += c
					}
					out[xx*c+ch] = clip8(ss)
				}
			}
		}
		src = tmp
		if h == m.H {
			return tmp
		}
		// tmp starts at row first; shift the vertical bounds to match.
		return resampleVertical(src, h, f, m.H, first)
	}
	return resampleVertical(src, h, f, m.H, 0)
}

// resampleVertical resizes src (which holds the input rows from offset on)
// to h rows; inH is the full input height the coefficients are built for.
func resampleVertical(src *Image, h int, f filter, inH, offset int) *Image {
	vb, vk, vks := coeffs(inH, h, f)
	out := NewImage(src.W, h, src.C)
	stride := src.Stride()
	acc := make([]int32, stride)
	for yy := 0; yy < h; yy++ {
		ymin, n := vb[2*yy]-offset, vb[2*yy+1]
		for i := range acc {
			acc[i] = 1 << (precisionBits - 1)
		}
		for y, kv := range vk[yy*vks : yy*vks+n] {
			row := src.Pix[(ymin+y)*stride : (ymin+y+1)*stride]
			for i, v := range row {
				acc[i] += int32(v) * kv
			}
		}
		dst := out.Pix[yy*stride : (yy+1)*stride]
		for i, v := range acc {
			dst[i] = clip8(v)
		}
	}
	return out
}
