package conv

// This file describes pooling geometry: the parameter structs, PyTorch's
// output-size rule and validation. It leaves out the pooling loops
// (maxpool.go, avgpool.go, adaptive.go).

import (
	"fmt"
	"math"
)

// MaxPool2dParams is the geometry of a 2-D max pool with PyTorch semantics:
// windows of KH x KW taps spaced DilH x DilW apart, moved by StrideH x
// StrideW, over an input padded with -Inf by PadH rows and PadW columns on
// each side. Strides and dilations must be at least 1 (PyTorch's default
// stride is the kernel size; the engine fills that in).
type MaxPool2dParams struct {
	N, C, H, W       int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	DilH, DilW       int
	CeilMode         bool
}

// OutH is the pooled height under PyTorch's rule, including ceil mode.
func (p MaxPool2dParams) OutH() int { return poolOut(p.H, p.KH, p.StrideH, p.PadH, p.DilH, p.CeilMode) }

// OutW is the pooled width under PyTorch's rule, including ceil mode.
func (p MaxPool2dParams) OutW() int { return poolOut(p.W, p.KW, p.StrideW, p.PadW, p.DilW, p.CeilMode) }

// Validate reports whether PyTorch would accept p, and whether the argmax
// indices of one plane fit in an int32.
func (p MaxPool2dParams) Validate() error {
	if p.DilH < 1 || p.DilW < 1 {
		return fmt.Errorf("conv: max pool dilation %dx%d: want >= 1", p.DilH, p.DilW)
	}
	if err := checkPool(p.N, p.C, p.H, p.W, p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW); err != nil {
		return err
	}
	if p.H*p.W > math.MaxInt32 {
		return fmt.Errorf("conv: max pool plane %dx%d: argmax indices overflow int32", p.H, p.W)
	}
	return checkOut(p.OutH(), p.OutW())
}

// AvgPool2dParams is the geometry of a 2-D average pool with PyTorch
// semantics. Padding counts as zeros. ExcludePad is the negation of PyTorch's
// count_include_pad, so that the zero value means PyTorch's default: when it
// is false, the divisor counts padded taps (but never taps past the padding
// that ceil mode adds). DivisorOverride, when non-zero, replaces the divisor.
type AvgPool2dParams struct {
	N, C, H, W       int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	CeilMode         bool
	ExcludePad       bool
	DivisorOverride  int
}

// OutH is the pooled height under PyTorch's rule, including ceil mode.
func (p AvgPool2dParams) OutH() int { return poolOut(p.H, p.KH, p.StrideH, p.PadH, 1, p.CeilMode) }

// OutW is the pooled width under PyTorch's rule, including ceil mode.
func (p AvgPool2dParams) OutW() int { return poolOut(p.W, p.KW, p.StrideW, p.PadW, 1, p.CeilMode) }

// Validate reports whether PyTorch would accept p.
func (p AvgPool2dParams) Validate() error {
	if err := checkPool(p.N, p.C, p.H, p.W, p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW); err != nil {
		return err
	}
	return checkOut(p.OutH(), p.OutW())
}

// AdaptiveAvgPool2dParams pools each H x W plane to OutH x OutW, output cell
// (i, j) averaging input rows floor(i*H/OutH) to ceil((i+1)*H/OutH)-1 and the
// columns likewise, as PyTorch does. OutH may exceed H.
type AdaptiveAvgPool2dParams struct {
	N, C, H, W int
	OutH, OutW int
}

// Validate reports whether every size in p is positive.
func (p AdaptiveAvgPool2dParams) Validate() error {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.OutH < 1 || p.OutW < 1 {
		return fmt.Errorf("conv: adaptive avg pool N=%d C=%d H=%d W=%d to %dx%d: want all >= 1",
			p.N, p.C, p.H, p.W, p.OutH, p.OutW)
	}
	return nil
}

// poolOut is PyTorch's pooling_output_shape: floor or ceil of the window
// count, where ceil mode drops a last window that would start in the right
// padding.
func poolOut(in, k, s, pad, d int, ceil bool) int {
	if s < 1 {
		return 0
	}
	num := in + 2*pad - d*(k-1) - 1
	if ceil {
		num += s - 1
	}
	out := floorDiv(num, s) + 1
	if ceil && (out-1)*s >= in+pad {
		out--
	}
	return out
}

func checkPool(n, c, h, w, kh, kw, sh, sw, ph, pw int) error {
	switch {
	case n < 1 || c < 1 || h < 1 || w < 1:
		return fmt.Errorf("conv: pool input N=%d C=%d H=%d W=%d: want all >= 1", n, c, h, w)
	case kh < 1 || kw < 1:
		return fmt.Errorf("conv: pool kernel %dx%d: want >= 1", kh, kw)
	case sh < 1 || sw < 1:
		return fmt.Errorf("conv: pool stride %dx%d: want >= 1", sh, sw)
	case ph < 0 || pw < 0 || ph > kh/2 || pw > kw/2:
		return fmt.Errorf("conv: pool padding %dx%d: want >= 0 and at most half the kernel %dx%d", ph, pw, kh, kw)
	}
	return nil
}

func checkOut(oh, ow int) error {
	if oh < 1 || ow < 1 {
		return fmt.Errorf("conv: pool output %dx%d: want >= 1", oh, ow)
	}
	return nil
}

// mustLen panics when a slice does not have the size its parameters imply.
func mustLen(kernel, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("conv: %s: %s has %d elements, want %d", kernel, name, got, want))
	}
}
