package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// The 2-D convolution layer. This file leaves out padding modes other than
// zeros ('reflect', 'replicate', 'circular') and string padding ('same').

// Conv2dConfig holds nn.Conv2d's constructor arguments as (height, width)
// pairs. Zero Stride, Dilation and Groups mean 1; NoBias drops the bias so
// that the zero value matches PyTorch's bias=True default.
type Conv2dConfig struct {
	In, Out  int
	Kernel   [2]int
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
	Groups   int
	NoBias   bool
}

// Conv2d is PyTorch's nn.Conv2d: a 2-D cross-correlation over (N, C, H, W)
// inputs. Its state_dict entries are "weight" (Out, In/Groups, KH, KW) and
// "bias" (Out).
type Conv2d struct {
	Config Conv2dConfig
	Weight *autograd.Var
	Bias   *autograd.Var // nil without bias
	opts   autograd.Conv2dOptions
}

var (
	_ Module      = (*Conv2d)(nil)
	_ ParamHolder = (*Conv2d)(nil)
)

// NewConv2d returns a Conv2d initialised as PyTorch does (see InitDefault),
// drawing from rng.
func NewConv2d(cfg Conv2dConfig, rng *rand.Rand) *Conv2d {
	groups := max(cfg.Groups, 1)
	if cfg.In <= 0 || cfg.Out <= 0 || cfg.Kernel[0] <= 0 || cfg.Kernel[1] <= 0 || cfg.In%groups != 0 || cfg.Out%groups != 0 {
		panic(fmt.Sprintf("nn: conv2d with in %d, out %d, kernel %v, groups %d", cfg.In, cfg.Out, cfg.Kernel, groups))
	}
	c := &Conv2d{Config: cfg, opts: autograd.Conv2dOptions{Stride: cfg.Stride, Padding: cfg.Padding, Dilation: cfg.Dilation, Groups: groups}}
	c.Weight = autograd.NewVar(tensor.New(cfg.Out, cfg.In/groups, cfg.Kernel[0], cfg.Kernel[1]), true)
	var b *tensor.Tensor
	if !cfg.NoBias {
		b = tensor.New(cfg.Out)
		c.Bias = autograd.NewVar(b, true)
	}
	InitDefault(c.Weight.Value(), b, rng)
	return c
}

// Forward convolves x of shape (N, In, H, W).
func (c *Conv2d) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.Conv2d(x, c.Weight, c.Bias, c.opts)
}

// ForwardReLU convolves x and applies ReLU in one fused primitive; it equals
// ReLU(Forward(x)) and is faster.
func (c *Conv2d) ForwardReLU(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.Conv2dReLU(x, c.Weight, c.Bias, c.opts)
}

// ForwardReLUMaxPool is pool.Forward(g, c.ForwardReLU(g, x)), in one
// pass when the pool allows it (autograd's Conv2dReLUMaxPool).
func (c *Conv2d) ForwardReLUMaxPool(g *autograd.Tape, x *autograd.Var, pool *MaxPool2d) *autograd.Var {
	return g.Conv2dReLUMaxPool(x, c.Weight, c.Bias, c.opts, pool.Options)
}

// OwnParams returns "weight" and, when present, "bias".
func (c *Conv2d) OwnParams() []Param {
	return weightBias(c.Weight, c.Bias)
}

// OutSize returns the output height and width for an h x w input, with
// PyTorch's formula.
func (c *Conv2d) OutSize(h, w int) (int, int) {
	o := c.opts
	out := func(in, i int) int {
		d := max(o.Dilation[i], 1)
		s := max(o.Stride[i], 1)
		return (in+2*o.Padding[i]-d*(c.Config.Kernel[i]-1)-1)/s + 1
	}
	return out(h, 0), out(w, 1)
}
