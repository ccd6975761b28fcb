package models

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/kiln-ml/kiln/nn"
)

// Model is a built architecture: a module and its packed parameters.
type Model interface {
	nn.Module
	ParamSet() *nn.ParamSet
}

// ParamSet returns the packed parameters.
func (m *SeedCNN) ParamSet() *nn.ParamSet { return m.Params }

// ParamSet returns the packed parameters.
func (m *MLP) ParamSet() *nn.ParamSet { return m.Params }

// builders maps zoo names to constructors.
var builders = map[string]func(s Shape, rng *rand.Rand) (Model, error){
	"seed-cnn": func(s Shape, rng *rand.Rand) (Model, error) { return NewSeedCNN(s, 0.2, rng) },
	"mlp":      func(s Shape, rng *rand.Rand) (Model, error) { return NewMLP(s, []int{256, 128}, rng) },
	"lenet5":   func(s Shape, rng *rand.Rand) (Model, error) { return NewLeNet5(s, rng) },
	"resnet8":  func(s Shape, rng *rand.Rand) (Model, error) { return NewResNet(s, 8, rng) },
	"resnet20": func(s Shape, rng *rand.Rand) (Model, error) { return NewResNet(s, 20, rng) },
}

// Names returns the zoo's model names, sorted.
func Names() []string {
	var out []string
	for n := range builders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// New builds the zoo model called name for inputs of shape s.
func New(name string, s Shape, rng *rand.Rand) (Model, error) {
	b, ok := builders[name]
	if !ok {
		return nil, fmt.Errorf("models: unknown model %q (known: %v)", name, Names())
	}
	return b(s, rng)
}
