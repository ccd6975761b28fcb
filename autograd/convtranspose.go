package autograd

// The 2-D transposed convolution. It reuses the convolution kernels with the
// roles of input and output swapped: its forward pass is a convolution's data
// gradient, its data gradient a convolution's forward pass and its weight
// gradient a convolution's weight gradient with input and output-gradient
// exchanged. This file leaves out output_padding at or above the stride
// (PyTorch allows it below the dilation instead; kiln's kernels need the
// mirror convolution to map the output back onto exactly the input size),
// and an explicit output_size argument (pass OutputPadding instead).

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

// ConvTranspose2dOptions are a 2-D transposed convolution's hyperparameters
// with PyTorch's meaning, as (height, width) pairs. Zero strides and
// dilations mean 1 and zero Groups means 1. OutputPadding adds rows and
// columns at the bottom and right of the output and must be smaller than the
// stride.
type ConvTranspose2dOptions struct {
	Stride        [2]int
	Padding       [2]int
	OutputPadding [2]int
	Dilation      [2]int
	Groups        int
}

func (o ConvTranspose2dOptions) norm() ConvTranspose2dOptions {
	for i := range 2 {
		if o.Stride[i] == 0 {
			o.Stride[i] = 1
		}
		if o.Dilation[i] == 0 {
			o.Dilation[i] = 1
		}
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	return o
}

// ConvTranspose2dOutSize returns the output size of a transposed convolution
// along one axis: (in-1)*stride - 2*pad + dilation*(k-1) + outputPadding + 1.
func ConvTranspose2dOutSize(in, k, stride, pad, dilation, outputPadding int) int {
	return (in-1)*stride - 2*pad + dilation*(k-1) + outputPadding + 1
}

// convTransposeParams builds the geometry of the mirror convolution: the
// one whose input has the transposed convolution's output shape and whose
// output has its input shape. x is (N, Cin, H, W) and w (Cin, Cout/groups,
// KH, KW), which is the mirror convolution's weight layout unchanged.
func convTransposeParams(x, w []int, o ConvTranspose2dOptions) (conv.Conv2dParams, error) {
	if len(x) != 4 || len(w) != 4 {
		return conv.Conv2dParams{}, fmt.Errorf("autograd: conv_transpose2d: input %v and weight %v, want 4-D (N, Cin, H, W) and (Cin, Cout/groups, KH, KW)", x, w)
	}
	if o.Groups < 1 || x[1]%o.Groups != 0 || w[0] != x[1] {
		return conv.Conv2dParams{}, fmt.Errorf("autograd: conv_transpose2d: input %v, weight %v, groups %d: want weight (Cin, Cout/groups, KH, KW) with groups dividing Cin", x, w, o.Groups)
	}
	var out [2]int
	for i := range 2 {
		op := o.OutputPadding[i]
		if op < 0 || op >= o.Stride[i] {
			return conv.Conv2dParams{}, fmt.Errorf("autograd: conv_transpose2d: output padding %v, want 0 <= output padding < stride %v", o.OutputPadding, o.Stride)
		}
		out[i] = ConvTranspose2dOutSize(x[2+i], w[2+i], o.Stride[i], o.Padding[i], o.Dilation[i], op)
	}
	p := conv.Conv2dParams{N: x[0], C: w[1] * o.Groups, H: out[0], W: out[1], OutC: x[1], KH: w[2], KW: w[3],
		StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
		DilH: o.Dilation[0], DilW: o.Dilation[1], Groups: o.Groups}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("autograd: conv_transpose2d: input %v, weight %v: %w", x, w, err)
	}
	if p.OutH() != x[2] || p.OutW() != x[3] {
		// Unreachable with 0 <= output padding < stride; kept as a guard on
		// the kernels' contract.
		return p, fmt.Errorf("autograd: conv_transpose2d: input %v, weight %v: mirror convolution gives %dx%d", x, w, p.OutH(), p.OutW())
	}
	return p, nil
}

// ConvTranspose2d returns the 2-D transposed convolution of x (N, Cin, H, W)
// with w (Cin, Cout/groups, KH, KW) plus b (Cout) unless b is nil: PyTorch's
// F.conv_transpose2d, the gradient of Conv2d with respect to its input.
func (g *Tape) ConvTranspose2d(x, w, b *Var, o ConvTranspose2dOptions) *Var {
	o = o.norm()
	p, err := convTransposeParams(x.Shape(), w.Shape(), o)
	if err != nil {
		panic(err)
	}
	if b != nil && !b.value.ShapeIs(p.C) {
		panic(fmt.Sprintf("autograd: conv_transpose2d: bias %v, want [%d]", b.Shape(), p.C))
	}
	y := g.newVar(opConvTranspose2d, []int{p.N, p.C, p.H, p.W}, x, w, b)
	y.ints = [8]int{o.Stride[0], o.Stride[1], o.Padding[0], o.Padding[1],
		o.OutputPadding[0], o.OutputPadding[1], o.Dilation[0], o.Dilation[1]}
	yd := y.Data()
	conv.Conv2dBackwardData(p, x.Data(), w.Data(), yd, g.floats.get(p.WorkspaceLen()))
	if b != nil {
		hw := p.H * p.W
		bd := b.Data()
		for i := range p.N * p.C {
			bv := bd[i%p.C]
			row := yd[i*hw : (i+1)*hw]
			for j := range row {
				row[j] += bv
			}
		}
	}
	return y
}

func convTranspose2dBackward(g *Tape, n *Var) {
	x, w, b := n.in[0], n.in[1], n.in[2]
	s := n.ints
	// Groups is not saved (ints is full): Cout = groups * w.Dim(1).
	o := ConvTranspose2dOptions{Stride: [2]int{s[0], s[1]}, Padding: [2]int{s[2], s[3]},
		OutputPadding: [2]int{s[4], s[5]}, Dilation: [2]int{s[6], s[7]},
		Groups: n.value.Dim(1) / w.value.Dim(1)}
	p, _ := convTransposeParams(x.Shape(), w.Shape(), o)
	ws := g.floats.get(p.WorkspaceLen())
	dy := n.grad.Data()
	if n.needs(0) {
		tmp := g.floats.get(x.value.Len())
		conv.Conv2dForward(p, dy, w.Data(), nil, tmp, ws)
		addScaled(g.gradOf(x).Data(), tmp, 1)
	}
	if n.needs(1) {
		conv.Conv2dBackwardWeight(p, dy, x.Data(), g.gradOf(w).Data(), nil, ws)
	}
	if n.needs(2) {
		db := g.gradOf(b).Data()
		hw := p.H * p.W
		for i := range p.N * p.C {
			var sum float32
			for _, v := range dy[i*hw : (i+1)*hw] {
				sum += v
			}
			db[i%p.C] += sum
		}
	}
}
