package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// The 2-D transposed convolution layer. This file leaves out padding modes
// other than zeros, forward's output_size argument (set OutputPadding
// instead) and output padding at or above the stride (see
// autograd.ConvTranspose2d).

// ConvTranspose2dConfig holds nn.ConvTranspose2d's constructor arguments as
// (height, width) pairs. Zero Stride, Dilation and Groups mean 1; NoBias
// drops the bias so that the zero value matches PyTorch's bias=True default.
type ConvTranspose2dConfig struct {
	In, Out       int
	Kernel        [2]int
	Stride        [2]int
	Padding       [2]int
	OutputPadding [2]int
	Dilation      [2]int
	Groups        int
	NoBias        bool
}

// ConvTranspose2d is PyTorch's nn.ConvTranspose2d, the upsampling layer of
// decoders: the gradient of a Conv2d with respect to its input, over
// (N, C, H, W) inputs. Its state_dict entries are "weight"
// (In, Out/Groups, KH, KW), note the order, and "bias" (Out).
type ConvTranspose2d struct {
	Config ConvTranspose2dConfig
	Weight *autograd.Var
	Bias   *autograd.Var // nil without bias
	opts   autograd.ConvTranspose2dOptions
}

var (
	_ Module      = (*ConvTranspose2d)(nil)
	_ ParamHolder = (*ConvTranspose2d)(nil)
)

// NewConvTranspose2d returns a ConvTranspose2d initialised as PyTorch does
// (InitDefault, whose fan-in from the (In, Out/Groups, KH, KW) weight is
// Out/Groups*KH*KW, as in PyTorch), drawing from rng. It panics on sizes no
// layer can have, and on output padding that is negative or not smaller than
// the stride.
func NewConvTranspose2d(cfg ConvTranspose2dConfig, rng *rand.Rand) *ConvTranspose2d {
	groups := max(cfg.Groups, 1)
	bad := cfg.In <= 0 || cfg.Out <= 0 || cfg.Kernel[0] <= 0 || cfg.Kernel[1] <= 0 || cfg.In%groups != 0 || cfg.Out%groups != 0
	for i := range 2 {
		if cfg.OutputPadding[i] < 0 || cfg.OutputPadding[i] >= max(cfg.Stride[i], 1) {
			bad = true
		}
	}
	if bad {
		panic(fmt.Sprintf("nn: conv_transpose2d with in %d, out %d, kernel %v, stride %v, output padding %v, groups %d",
			cfg.In, cfg.Out, cfg.Kernel, cfg.Stride, cfg.OutputPadding, groups))
	}
	c := &ConvTranspose2d{Config: cfg, opts: autograd.ConvTranspose2dOptions{Stride: cfg.Stride, Padding: cfg.Padding,
		OutputPadding: cfg.OutputPadding, Dilation: cfg.Dilation, Groups: groups}}
	c.Weight = autograd.NewVar(tensor.New(cfg.In, cfg.Out/groups, cfg.Kernel[0], cfg.Kernel[1]), true)
	var b *tensor.Tensor
	if !cfg.NoBias {
		b = tensor.New(cfg.Out)
		c.Bias = autograd.NewVar(b, true)
	}
	InitDefault(c.Weight.Value(), b, rng)
	return c
}

// Forward applies the transposed convolution to x of shape (N, In, H, W).
func (c *ConvTranspose2d) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.ConvTranspose2d(x, c.Weight, c.Bias, c.opts)
}

// OwnParams returns "weight" and, when present, "bias".
func (c *ConvTranspose2d) OwnParams() []Param {
	return weightBias(c.Weight, c.Bias)
}

// OutSize returns the output height and width for an h x w input, with
// PyTorch's formula (in-1)*stride - 2*padding + dilation*(kernel-1) +
// output_padding + 1.
func (c *ConvTranspose2d) OutSize(h, w int) (int, int) {
	o := c.opts
	out := func(in, i int) int {
		return autograd.ConvTranspose2dOutSize(in, c.Config.Kernel[i], max(o.Stride[i], 1), o.Padding[i], max(o.Dilation[i], 1), o.OutputPadding[i])
	}
	return out(h, 0), out(w, 1)
}
