package onnx

// ONNX mappings of the pooling layers. PyTorch's ceil mode drops a last
// window that would start in the right padding, and ONNX runtimes have not
// always agreed on that rule (nor on the divisor of windows that overhang
// the padding), so nothing here uses ONNX's ceil_mode: the extra windows
// become explicit extra end padding, which has the same effect in floor
// mode, and average pooling that counts padding is computed as a sum over
// the kernel (count_include_pad=1 divides every window by the kernel size)
// times a constant map of kernel size / PyTorch's divisor. This file leaves
// out pooling kiln lacks (LP, fractional, 1-D and 3-D).

import (
	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
	"github.com/kiln-ml/kiln/nn"
)

// poolGeom is the ONNX form of a 2-D pooling window.
type poolGeom struct {
	out    [2]int // output height and width, by PyTorch's rule
	padEnd [2]int // bottom and right padding giving that many windows in floor mode
}

func normPool(o autograd.PoolOptions) autograd.PoolOptions {
	for i := range 2 {
		if o.Stride[i] == 0 {
			o.Stride[i] = o.Kernel[i]
		}
		if o.Dilation[i] == 0 {
			o.Dilation[i] = 1
		}
	}
	return o
}

// geometry returns the windows PyTorch's pooling makes over h x w: pads
// that make a floor-mode pool yield them. The last window starts inside
// the input or the left padding, so the end padding stays below the
// window's extent, as ONNX requires.
func geometry(h, w, oh, ow int, o autograd.PoolOptions) poolGeom {
	g := poolGeom{out: [2]int{oh, ow}}
	for i, in := range [2]int{h, w} {
		extent := o.Dilation[i]*(o.Kernel[i]-1) + 1
		g.padEnd[i] = max(o.Padding[i], (g.out[i]-1)*o.Stride[i]+extent-in-o.Padding[i])
	}
	return g
}

func (g poolGeom) pads(o autograd.PoolOptions) Attr {
	return AttrInts("pads", o.Padding[0], o.Padding[1], g.padEnd[0], g.padEnd[1])
}

// poolInput checks that x is (N, C, H, W) with a fixed H and W.
func (b *Builder) poolInput(m nn.Module, x string) ([]int, error) {
	s := b.shapes[x]
	if len(s) != 4 || s[1] < 1 || s[2] < 1 || s[3] < 1 {
		return nil, b.Errorf(m, "input %s, want (N, C, H, W) with a fixed C, H and W", fmtShape(s))
	}
	return s, nil
}

func (b *Builder) maxPool2d(l *nn.MaxPool2d, x string) (string, error) {
	s, err := b.poolInput(l, x)
	if err != nil {
		return "", err
	}
	o := normPool(l.Options)
	p := conv.MaxPool2dParams{N: 1, C: s[1], H: s[2], W: s[3], KH: o.Kernel[0], KW: o.Kernel[1],
		StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
		DilH: o.Dilation[0], DilW: o.Dilation[1], CeilMode: o.CeilMode}
	if err := p.Validate(); err != nil {
		return "", b.Errorf(l, "%v", err)
	}
	g := geometry(s[2], s[3], p.OutH(), p.OutW(), o)
	return b.Op("MaxPool", []string{x}, []int{s[0], s[1], p.OutH(), p.OutW()},
		AttrInts("dilations", o.Dilation[0], o.Dilation[1]),
		AttrInts("kernel_shape", o.Kernel[0], o.Kernel[1]),
		g.pads(o),
		AttrInts("strides", o.Stride[0], o.Stride[1])), nil
}

func (b *Builder) avgPool2d(l *nn.AvgPool2d, x string) (string, error) {
	s, err := b.poolInput(l, x)
	if err != nil {
		return "", err
	}
	o := normPool(l.Options)
	o.Dilation = [2]int{1, 1} // average pooling has none
	p := conv.AvgPool2dParams{N: 1, C: s[1], H: s[2], W: s[3], KH: o.Kernel[0], KW: o.Kernel[1],
		StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
		CeilMode: o.CeilMode, ExcludePad: o.ExcludePad, DivisorOverride: o.Divisor}
	if err := p.Validate(); err != nil {
		return "", b.Errorf(l, "%v", err)
	}
	oh, ow := p.OutH(), p.OutW()
	g := geometry(s[2], s[3], oh, ow, o)
	sum := o.Divisor != 0 || !o.ExcludePad
	include := 0
	if sum {
		include = 1
	}
	out := []int{s[0], s[1], oh, ow}
	y := b.Op("AveragePool", []string{x}, out,
		AttrInt("count_include_pad", include),
		AttrInts("kernel_shape", o.Kernel[0], o.Kernel[1]),
		g.pads(o),
		AttrInts("strides", o.Stride[0], o.Stride[1]))
	if !sum {
		return y, nil
	}
	// y is each window's sum / (KH*KW); rescale to PyTorch's divisor.
	k := float32(o.Kernel[0] * o.Kernel[1])
	scale := make([]float32, oh*ow)
	uniform := true
	for i := range oh {
		for j := range ow {
			div := float32(o.Divisor)
			if div == 0 {
				div = float32(span(i, o.Kernel[0], o.Stride[0], o.Padding[0], s[2]) * span(j, o.Kernel[1], o.Stride[1], o.Padding[1], s[3]))
			}
			scale[i*ow+j] = k / div
			uniform = uniform && scale[i*ow+j] == scale[0]
		}
	}
	switch {
	case uniform && scale[0] == 1:
		return y, nil
	case uniform:
		return b.Op("Mul", []string{y, b.Scalar(scale[0])}, out), nil
	}
	return b.Op("Mul", []string{y, b.Const("divisor_scale", scale, oh, ow)}, out), nil
}

// span is the number of taps PyTorch's average pooling counts in window i
// along an axis of n inputs when padding counts: up to the padded edge,
// never into the room ceil mode adds.
func span(i, k, s, pad, n int) int {
	lo := i*s - pad
	return min(lo+k, n+pad) - lo
}

// adaptiveAvgPool2d is GlobalAveragePool for a 1x1 output and an
// AveragePool when the output size divides the input's (PyTorch's windows
// are then equal and disjoint); ONNX has no adaptive pooling for the rest.
func (b *Builder) adaptiveAvgPool2d(l *nn.AdaptiveAvgPool2d, x string) (string, error) {
	s, err := b.poolInput(l, x)
	if err != nil {
		return "", err
	}
	if l.OutH < 1 || l.OutW < 1 {
		return "", b.Errorf(l, "output size %dx%d", l.OutH, l.OutW)
	}
	out := []int{s[0], s[1], l.OutH, l.OutW}
	if l.OutH == 1 && l.OutW == 1 {
		return b.Op("GlobalAveragePool", []string{x}, out), nil
	}
	if s[2]%l.OutH != 0 || s[3]%l.OutW != 0 {
		return "", b.Errorf(l, "output %dx%d does not divide the input's %dx%d, and ONNX has no adaptive pooling with uneven windows (resize the input or pick a divisor of it)", l.OutH, l.OutW, s[2], s[3])
	}
	kh, kw := s[2]/l.OutH, s[3]/l.OutW
	return b.Op("AveragePool", []string{x}, out, AttrInts("kernel_shape", kh, kw), AttrInts("strides", kh, kw)), nil
}
