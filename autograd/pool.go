package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

// PoolOptions are a 2-D pooling window's hyperparameters with PyTorch's
// meaning, as (height, width) pairs. A zero Stride means the kernel size (the
// PyTorch default); a zero Dilation means 1. CountIncludePad is inverted
// (ExcludePad) so that the zero value is PyTorch's default.
type PoolOptions struct {
	Kernel     [2]int
	Stride     [2]int
	Padding    [2]int
	Dilation   [2]int // max pooling only
	CeilMode   bool
	ExcludePad bool // average pooling only: count_include_pad=False
	Divisor    int  // average pooling only: divisor_override, 0 for none
}

func (o PoolOptions) norm() PoolOptions {
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

// is2x2 reports a 2x2 window at stride 2 with no padding, dilation or
// ceil mode.
func (o PoolOptions) is2x2() bool {
	o = o.norm()
	return o.Kernel == [2]int{2, 2} && o.Stride == [2]int{2, 2} && o.Padding == [2]int{} &&
		o.Dilation == [2]int{1, 1} && !o.CeilMode
}

func (o PoolOptions) save(v *Var) {
	v.ints = [8]int{o.Kernel[0], o.Kernel[1], o.Stride[0], o.Stride[1], o.Padding[0], o.Padding[1], o.Dilation[0], o.Dilation[1]}
	if o.CeilMode {
		v.fl[0] = 1
	}
	if o.ExcludePad {
		v.fl[1] = 1
	}
}

func savedPool(v *Var) PoolOptions {
	s := v.ints
	return PoolOptions{Kernel: [2]int{s[0], s[1]}, Stride: [2]int{s[2], s[3]}, Padding: [2]int{s[4], s[5]},
		Dilation: [2]int{s[6], s[7]}, CeilMode: v.fl[0] == 1, ExcludePad: v.fl[1] == 1}
}

func nchw(op string, x *Var) (n, c, h, w int) {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("autograd: %s: input %v, want (N, C, H, W)", op, s))
	}
	return s[0], s[1], s[2], s[3]
}

func maxPoolParams(x *Var, o PoolOptions) conv.MaxPool2dParams {
	n, c, h, w := nchw("maxpool2d", x)
	p := conv.MaxPool2dParams{N: n, C: c, H: h, W: w, KH: o.Kernel[0], KW: o.Kernel[1],
		StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
		DilH: o.Dilation[0], DilW: o.Dilation[1], CeilMode: o.CeilMode}
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("autograd: maxpool2d of %v: %v", x.Shape(), err))
	}
	return p
}

// MaxPool2d returns the maximum over each window of x (N, C, H, W), like
// F.max_pool2d. Gradients flow to the position that won each window.
func (g *Tape) MaxPool2d(x *Var, o PoolOptions) *Var {
	o = o.norm()
	p := maxPoolParams(x, o)
	y := g.newVar(opMaxPool2d, []int{p.N, p.C, p.OutH(), p.OutW()}, x)
	o.save(y)
	idx := g.ints(y.value.Len())
	conv.MaxPool2dForward(p, x.Data(), y.Data(), idx)
	y.idx = idx
	return y
}

func maxPool2dBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	p := maxPoolParams(x, savedPool(n))
	if dx := g.freshGrad(x); dx != nil {
		conv.MaxPool2dBackwardInto(p, n.grad.Data(), n.idx, dx)
		return
	}
	conv.MaxPool2dBackward(p, n.grad.Data(), n.idx, g.gradOf(x).Data())
}

func avgPoolParams(x *Var, o PoolOptions) conv.AvgPool2dParams {
	n, c, h, w := nchw("avgpool2d", x)
	p := conv.AvgPool2dParams{N: n, C: c, H: h, W: w, KH: o.Kernel[0], KW: o.Kernel[1],
		StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
		CeilMode: o.CeilMode, ExcludePad: o.ExcludePad, DivisorOverride: o.Divisor}
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("autograd: avgpool2d of %v: %v", x.Shape(), err))
	}
	return p
}

// AvgPool2d returns the mean over each window of x (N, C, H, W), like
// F.avg_pool2d.
func (g *Tape) AvgPool2d(x *Var, o PoolOptions) *Var {
	o = o.norm()
	p := avgPoolParams(x, o)
	y := g.newVar(opAvgPool2d, []int{p.N, p.C, p.OutH(), p.OutW()}, x)
	o.save(y)
	y.idx = y.idx[:0]
	if o.Divisor != 0 {
		y.idx = g.ints(1)
		y.idx[0] = int32(o.Divisor)
	}
	conv.AvgPool2dForward(p, x.Data(), y.Data())
	return y
}

func avgPool2dBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	o := savedPool(n)
	if len(n.idx) == 1 {
		o.Divisor = int(n.idx[0])
	}
	conv.AvgPool2dBackward(avgPoolParams(x, o), n.grad.Data(), g.gradOf(x).Data())
}

// AdaptiveAvgPool2d averages x (N, C, H, W) into an (outH, outW) grid with
// PyTorch's window rule, like F.adaptive_avg_pool2d.
func (g *Tape) AdaptiveAvgPool2d(x *Var, outH, outW int) *Var {
	n, c, h, w := nchw("adaptiveavgpool2d", x)
	p := conv.AdaptiveAvgPool2dParams{N: n, C: c, H: h, W: w, OutH: outH, OutW: outW}
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("autograd: adaptiveavgpool2d: %v", err))
	}
	y := g.newVar(opAdaptiveAvgPool2d, []int{n, c, outH, outW}, x)
	conv.AdaptiveAvgPool2dForward(p, x.Data(), y.Data())
	return y
}

func adaptiveAvgPool2dBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	s, o := x.Shape(), n.Shape()
	p := conv.AdaptiveAvgPool2dParams{N: s[0], C: s[1], H: s[2], W: s[3], OutH: o[2], OutW: o[3]}
	conv.AdaptiveAvgPool2dBackward(p, n.grad.Data(), g.gradOf(x).Data())
}
