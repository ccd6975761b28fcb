package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
)

// MLP is a multilayer perceptron on flattened images: linear layers with
// ReLU between them. Its layers are named "layers.0", "layers.2", ... as in
// a PyTorch module holding an nn.Sequential called layers.
type MLP struct {
	Shape  Shape
	Layers *nn.Sequential
	Params *nn.ParamSet
}

var (
	_ nn.Module    = (*MLP)(nil)
	_ nn.Container = (*MLP)(nil)
)

// NewMLP builds an MLP for inputs of shape s with the given hidden layer
// widths (for example 256, 128), initialised from rng.
func NewMLP(s Shape, hidden []int, rng *rand.Rand) (*MLP, error) {
	in := s.Channels * s.Height * s.Width
	if in < 1 || s.Classes < 2 {
		return nil, fmt.Errorf("models: mlp needs a non-empty input and at least 2 classes, got %dx%dx%d and %d classes", s.Channels, s.Height, s.Width, s.Classes)
	}
	var layers []nn.Module
	for _, h := range hidden {
		if h < 1 {
			return nil, fmt.Errorf("models: mlp hidden width %d, want >= 1", h)
		}
		layers = append(layers, nn.NewLinear(in, h, true, rng), nn.NewReLU())
		in = h
	}
	layers = append(layers, nn.NewLinear(in, s.Classes, true, rng))
	m := &MLP{Shape: s, Layers: nn.NewSequential(layers...)}
	m.Params = nn.Pack(m)
	return m, nil
}

// Forward flattens images (N, C, H, W) and returns logits (N, classes).
func (m *MLP) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return m.Layers.Forward(g, g.Flatten(x))
}

// Children names the layer stack.
func (m *MLP) Children() []nn.Child { return []nn.Child{{Name: "layers", Module: m.Layers}} }
