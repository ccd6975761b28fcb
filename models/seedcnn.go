// Package models holds kiln's named architectures. Each is sized from the
// data (channels, image size, classes), names its parameters exactly as the
// equivalent PyTorch module does, and packs them into one flat buffer.
package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
)

// Shape is the input a model is built for, and its number of classes.
type Shape struct {
	Channels, Height, Width int
	Classes                 int
}

// SeedCNN is the seed program's CNN: conv(C->32, 5) -> ReLU -> maxpool 2 ->
// conv(32->64, 5) -> ReLU -> maxpool 2 -> flatten -> linear(64*h*w -> 128)
// -> ReLU -> dropout -> linear(128 -> classes). The first linear layer's
// size follows from the input size (64*5*5 for 32x32 inputs, 64*4*4 for
// 28x28). Parameter names match the PyTorch module: conv1, conv2, fc1, fc2.
type SeedCNN struct {
	Shape   Shape
	Conv1   *nn.Conv2d
	Conv2   *nn.Conv2d
	Pool    *nn.MaxPool2d
	FC1     *nn.Linear
	FC2     *nn.Linear
	Dropout *nn.Dropout
	Params  *nn.ParamSet
}

var (
	_ nn.Module    = (*SeedCNN)(nil)
	_ nn.Container = (*SeedCNN)(nil)
)

// NewSeedCNN builds a SeedCNN for inputs of shape s with dropout probability
// p (the seed uses 0.2), initialised from rng as PyTorch initialises its
// layers, with parameters packed into one flat buffer.
func NewSeedCNN(s Shape, p float32, rng *rand.Rand) (*SeedCNN, error) {
	if s.Channels < 1 || s.Classes < 2 {
		return nil, fmt.Errorf("models: seed-cnn needs at least 1 channel and 2 classes, got %d channels, %d classes", s.Channels, s.Classes)
	}
	h, w := (s.Height-4)/2, (s.Width-4)/2
	h, w = (h-4)/2, (w-4)/2
	if s.Height < 14 || s.Width < 14 || h < 1 || w < 1 {
		return nil, fmt.Errorf("models: seed-cnn needs images of at least 14x14 pixels, got %dx%d", s.Height, s.Width)
	}
	m := &SeedCNN{
		Shape:   s,
		Conv1:   nn.NewConv2d(nn.Conv2dConfig{In: s.Channels, Out: 32, Kernel: [2]int{5, 5}}, rng),
		Pool:    nn.NewMaxPool2d(2, 2),
		Conv2:   nn.NewConv2d(nn.Conv2dConfig{In: 32, Out: 64, Kernel: [2]int{5, 5}}, rng),
		FC1:     nn.NewLinear(64*h*w, 128, true, rng),
		FC2:     nn.NewLinear(128, s.Classes, true, rng),
		Dropout: nn.NewDropout(p, rng),
	}
	m.Params = nn.Pack(m)
	return m, nil
}

// Forward maps images (N, C, H, W) to logits (N, classes).
func (m *SeedCNN) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	x = m.Conv1.ForwardReLUMaxPool(g, x, m.Pool)
	x = m.Conv2.ForwardReLUMaxPool(g, x, m.Pool)
	x = g.Flatten(x)
	x = m.Dropout.Forward(g, g.ReLU(m.FC1.Forward(g, x)))
	return m.FC2.Forward(g, x)
}

// Children names the layers as the PyTorch module's attributes.
func (m *SeedCNN) Children() []nn.Child {
	return []nn.Child{{Name: "conv1", Module: m.Conv1}, {Name: "pool", Module: m.Pool}, {Name: "conv2", Module: m.Conv2},
		{Name: "fc1", Module: m.FC1}, {Name: "fc2", Module: m.FC2}, {Name: "dropout", Module: m.Dropout}}
}
