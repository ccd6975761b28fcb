package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
)

// LeNet-5. This file leaves out LeCun's original details (scaled tanh,
// trainable subsampling, the sparse C3 connection table and RBF outputs):
// the variant here is the one PyTorch users write.

// LeNet5 is LeNet-5 as written in PyTorch's "Neural Networks" tutorial
// (pytorch.org/tutorials/beginner/blitz/neural_networks_tutorial.html):
// conv(C->6, 5) -> ReLU -> maxpool 2 -> conv(6->16, 5) -> ReLU -> maxpool 2
// -> flatten -> linear(16*h*w -> 120) -> ReLU -> linear(120 -> 84) -> ReLU
// -> linear(84 -> classes).
//
// LeCun et al. (1998) fed the network 28x28 digits padded to 32x32, so
// images smaller than 32 pixels on a side get conv1 padding 2 (as in the
// Dive into Deep Learning version); 28x28 and 32x32 inputs then both give
// fc1 16*5*5 inputs. Otherwise fc1 is sized from the input. Parameter names
// match the tutorial's module: conv1, conv2, fc1, fc2, fc3.
type LeNet5 struct {
	Shape  Shape
	Conv1  *nn.Conv2d
	Conv2  *nn.Conv2d
	Pool   *nn.MaxPool2d
	FC1    *nn.Linear
	FC2    *nn.Linear
	FC3    *nn.Linear
	Params *nn.ParamSet
}

var (
	_ Model        = (*LeNet5)(nil)
	_ nn.Container = (*LeNet5)(nil)
)

// NewLeNet5 builds a LeNet5 for inputs of shape s, initialised from rng as
// PyTorch initialises its layers, with parameters packed into one flat
// buffer. Images need at least 12 pixels on a side.
func NewLeNet5(s Shape, rng *rand.Rand) (*LeNet5, error) {
	if s.Channels < 1 || s.Classes < 2 {
		return nil, fmt.Errorf("models: lenet5 needs at least 1 channel and 2 classes, got %d channels, %d classes", s.Channels, s.Classes)
	}
	pad := 0
	if s.Height < 32 || s.Width < 32 {
		pad = 2
	}
	// conv 5 -> pool 2 -> conv 5 -> pool 2, each pool flooring.
	out := func(n int) int { return ((n+2*pad-4)/2 - 4) / 2 }
	h, w := out(s.Height), out(s.Width)
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("models: lenet5 needs images of at least 12x12 pixels, got %dx%d", s.Height, s.Width)
	}
	m := &LeNet5{
		Shape: s,
		Conv1: nn.NewConv2d(nn.Conv2dConfig{In: s.Channels, Out: 6, Kernel: [2]int{5, 5}, Padding: [2]int{pad, pad}}, rng),
		Pool:  nn.NewMaxPool2d(2, 2),
		Conv2: nn.NewConv2d(nn.Conv2dConfig{In: 6, Out: 16, Kernel: [2]int{5, 5}}, rng),
		FC1:   nn.NewLinear(16*h*w, 120, true, rng),
		FC2:   nn.NewLinear(120, 84, true, rng),
		FC3:   nn.NewLinear(84, s.Classes, true, rng),
	}
	m.Params = nn.Pack(m)
	return m, nil
}

// Forward maps images (N, C, H, W) to logits (N, classes).
func (m *LeNet5) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	x = m.Conv1.ForwardReLUMaxPool(g, x, m.Pool)
	x = m.Conv2.ForwardReLUMaxPool(g, x, m.Pool)
	x = g.Flatten(x)
	x = g.ReLU(m.FC1.Forward(g, x))
	x = g.ReLU(m.FC2.Forward(g, x))
	return m.FC3.Forward(g, x)
}

// Children names the layers as the tutorial module's attributes; its
// pooling is functional, so the pool is not a child.
func (m *LeNet5) Children() []nn.Child {
	return []nn.Child{{Name: "conv1", Module: m.Conv1}, {Name: "conv2", Module: m.Conv2},
		{Name: "fc1", Module: m.FC1}, {Name: "fc2", Module: m.FC2}, {Name: "fc3", Module: m.FC3}}
}

// ParamSet returns the packed parameters.
func (m *LeNet5) ParamSet() *nn.ParamSet { return m.Params }
