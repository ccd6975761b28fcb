package models

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
)

// Building an architecture file's layers for a data shape. Each layer's
// output shape and parameter count are worked out before anything is
// allocated, so an impossible or oversized file fails with a message. This
// file leaves out ceil_mode and the other rarely used pooling arguments.

// Stack is a model built from an architecture file: a torch.nn.Sequential
// of its layers, so its parameters are named "0.weight", "3.bias", ...
type Stack struct {
	Shape  Shape
	Arch   *Arch
	Layers *nn.Sequential
	Params *nn.ParamSet
}

var (
	_ Model        = (*Stack)(nil)
	_ nn.Container = (*Stack)(nil)
)

// Limits on what an architecture file may ask for: trainable scalars in the
// whole model, and activations per example after any layer.
const (
	maxArchParams      = 1 << 27
	maxArchActivations = 1 << 27
)

// FromFile reads the architecture file at path (see ParseArch) and builds
// it for inputs of shape s, initialised from rng.
func FromFile(path string, s Shape, rng *rand.Rand) (*Stack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("models: architecture file: %w", err)
	}
	st, err := FromJSON(data, s, rng)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", path, err)
	}
	return st, nil
}

// FromJSON parses an architecture file's contents (see ParseArch) and
// builds it for inputs of shape s, initialised from rng.
func FromJSON(data []byte, s Shape, rng *rand.Rand) (*Stack, error) {
	a, err := parseArch(data)
	if err != nil {
		return nil, err
	}
	return a.build(s, rng, maxArchParams, maxArchActivations)
}

// Build sizes a's layers for inputs of shape s and initialises them from
// rng as PyTorch does. Conv2d and BatchNorm2d take their channels, Linear
// its in-features and BatchNorm1d its width from the previous layer's
// output; a Linear without "out" gets s.Classes outputs. The last layer must
// produce s.Classes features per example.
func (a *Arch) Build(s Shape, rng *rand.Rand) (*Stack, error) {
	st, err := a.build(s, rng, maxArchParams, maxArchActivations)
	if err != nil {
		return nil, fmt.Errorf("models: architecture: %w", err)
	}
	return st, nil
}

func (a *Arch) build(s Shape, rng *rand.Rand, maxParams, maxActs float64) (*Stack, error) {
	if s.Channels < 1 || s.Height < 1 || s.Width < 1 || s.Classes < 1 {
		return nil, fmt.Errorf("data shape %dx%dx%d with %d classes: want positive sizes", s.Channels, s.Height, s.Width, s.Classes)
	}
	if len(a.Layers) == 0 {
		return nil, errors.New("no layers")
	}
	shape := []int{s.Channels, s.Height, s.Width}
	var params float64
	for i, l := range a.Layers {
		out, n, err := l.plan(shape, s.Classes)
		if err == nil {
			params += n
			acts := 1.0
			for _, d := range out {
				acts *= float64(d)
			}
			switch {
			case params > maxParams:
				err = fmt.Errorf("the model would have %.0f trainable values, more than %.0f", params, maxParams)
			case acts > maxActs:
				err = fmt.Errorf("output %v holds %.0f values per example, more than %.0f", out, acts, maxActs)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("layer %d%s on input %v: %w", i, l.label(), shape, err)
		}
		shape = out
	}
	if !slices.Equal(shape, []int{s.Classes}) {
		hint := ""
		if len(shape) > 1 {
			hint = "; put a flatten layer before the first linear layer"
		}
		return nil, fmt.Errorf("the last layer gives %v per example, want [%d] (the number of classes)%s", shape, s.Classes, hint)
	}
	shape = []int{s.Channels, s.Height, s.Width}
	layers := make([]nn.Module, len(a.Layers))
	for i, l := range a.Layers {
		layers[i] = l.module(shape, s.Classes, rng)
		shape, _, _ = l.plan(shape, s.Classes)
	}
	st := &Stack{Shape: s, Arch: a, Layers: nn.NewSequential(layers...)}
	st.Params = nn.Pack(st)
	return st, nil
}

// plan returns l's output shape (per example) and trainable value count
// for an input of the given shape, or why l cannot take it.
func (l LayerSpec) plan(in []int, classes int) (out []int, params float64, err error) {
	image := func() error {
		if len(in) != 3 {
			return fmt.Errorf("%s needs (channels, height, width) input, not %d-D features", l.Type, len(in))
		}
		return nil
	}
	bias := 0.0
	if l.Bias {
		bias = 1
	}
	switch l.Type {
	case "conv2d":
		if err := image(); err != nil {
			return nil, 0, err
		}
		c := in[0]
		if c%l.Groups != 0 || l.Out%l.Groups != 0 {
			return nil, 0, fmt.Errorf("groups %d must divide both the %d input channels and the %d output channels", l.Groups, c, l.Out)
		}
		h, w := windowOut(in[1], l.Kernel[0], l.Stride[0], l.Padding[0], l.Dilation[0]), windowOut(in[2], l.Kernel[1], l.Stride[1], l.Padding[1], l.Dilation[1])
		if h < 1 || w < 1 {
			return nil, 0, fmt.Errorf("kernel %v with dilation %v does not fit the %dx%d input padded by %v", l.Kernel, l.Dilation, in[1], in[2], l.Padding)
		}
		per := float64(c/l.Groups) * float64(l.Kernel[0]) * float64(l.Kernel[1])
		return []int{l.Out, h, w}, float64(l.Out) * (per + bias), nil
	case "linear":
		o := l.Out
		if o == 0 {
			o = classes
		}
		f := in[len(in)-1]
		out = append(slices.Clone(in[:len(in)-1]), o)
		return out, float64(o) * (float64(f) + bias), nil
	case "maxpool2d", "avgpool2d":
		if err := image(); err != nil {
			return nil, 0, err
		}
		if l.Padding[0] > l.Kernel[0]/2 || l.Padding[1] > l.Kernel[1]/2 {
			return nil, 0, fmt.Errorf("padding %v is more than half the kernel %v", l.Padding, l.Kernel)
		}
		h, w := windowOut(in[1], l.Kernel[0], l.Stride[0], l.Padding[0], l.Dilation[0]), windowOut(in[2], l.Kernel[1], l.Stride[1], l.Padding[1], l.Dilation[1])
		if h < 1 || w < 1 {
			return nil, 0, fmt.Errorf("kernel %v does not fit the %dx%d input padded by %v", l.Kernel, in[1], in[2], l.Padding)
		}
		return []int{in[0], h, w}, 0, nil
	case "adaptiveavgpool2d":
		if err := image(); err != nil {
			return nil, 0, err
		}
		return []int{in[0], l.OutSize[0], l.OutSize[1]}, 0, nil
	case "batchnorm2d":
		if err := image(); err != nil {
			return nil, 0, err
		}
		return in, 2 * float64(in[0]), nil
	case "batchnorm1d":
		if len(in) > 2 {
			return nil, 0, fmt.Errorf("batchnorm1d needs (features) or (channels, length) input, not %d-D; use batchnorm2d on images", len(in))
		}
		return in, 2 * float64(in[0]), nil
	case "flatten":
		n := 1
		for _, d := range in {
			n *= d
		}
		return []int{n}, 0, nil
	case "dropout", "relu", "leakyrelu", "tanh", "sigmoid", "gelu":
		return in, 0, nil
	}
	panic("models: no plan for layer type " + l.Type)
}

// windowOut is PyTorch's output size of a sliding window (floor mode), or 0
// when the window does not fit.
func windowOut(in, k, stride, pad, dil int) int {
	span := in + 2*pad - dil*(k-1) - 1
	if span < 0 {
		return 0
	}
	return span/stride + 1
}

// module builds l for an input of the given (checked) shape.
func (l LayerSpec) module(in []int, classes int, rng *rand.Rand) nn.Module {
	switch l.Type {
	case "conv2d":
		return nn.NewConv2d(nn.Conv2dConfig{In: in[0], Out: l.Out, Kernel: l.Kernel, Stride: l.Stride, Padding: l.Padding,
			Dilation: l.Dilation, Groups: l.Groups, NoBias: !l.Bias}, rng)
	case "linear":
		o := l.Out
		if o == 0 {
			o = classes
		}
		return nn.NewLinear(in[len(in)-1], o, l.Bias, rng)
	case "maxpool2d":
		return &nn.MaxPool2d{Options: autograd.PoolOptions{Kernel: l.Kernel, Stride: l.Stride, Padding: l.Padding, Dilation: l.Dilation}}
	case "avgpool2d":
		return &nn.AvgPool2d{Options: autograd.PoolOptions{Kernel: l.Kernel, Stride: l.Stride, Padding: l.Padding}}
	case "adaptiveavgpool2d":
		return &nn.AdaptiveAvgPool2d{OutH: l.OutSize[0], OutW: l.OutSize[1]}
	case "batchnorm1d", "batchnorm2d":
		var b *nn.BatchNorm
		if l.Type == "batchnorm1d" {
			b = nn.NewBatchNorm1d(in[0])
		} else {
			b = nn.NewBatchNorm2d(in[0])
		}
		// Set after construction: there a zero means the default.
		b.Eps, b.Momentum = float32(l.Eps), float32(l.Momentum)
		return b
	case "dropout":
		return nn.NewDropout(float32(l.P), rng)
	case "relu":
		return nn.NewReLU()
	case "leakyrelu":
		return nn.NewLeakyReLU(float32(l.NegativeSlope))
	case "tanh":
		return nn.NewTanh()
	case "sigmoid":
		return nn.NewSigmoid()
	case "gelu":
		return nn.NewGELU(l.Approximate)
	case "flatten":
		return nn.NewFlatten(1, -1)
	}
	panic("models: no module for layer type " + l.Type)
}

// Forward applies the layers to x (N, C, H, W).
func (st *Stack) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return st.Layers.Forward(g, x)
}

// Children are the layers, named "0", "1", ... as in torch.nn.Sequential.
func (st *Stack) Children() []nn.Child { return st.Layers.Children() }

// ParamSet returns the packed parameters.
func (st *Stack) ParamSet() *nn.ParamSet { return st.Params }
