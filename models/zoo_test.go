package models

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

func TestZooBuildsEveryModel(t *testing.T) {
	for _, name := range Names() {
		for _, s := range []Shape{{1, 28, 28, 10}, {3, 32, 32, 5}} {
			m, err := New(name, s, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatalf("%s %v: %v", name, s, err)
			}
			g := autograd.NewTape()
			y := m.Forward(g, g.Const(tensor.New(2, s.Channels, s.Height, s.Width)))
			if !y.Value().ShapeIs(2, s.Classes) {
				t.Errorf("%s %v: logits %v", name, s, y.Shape())
			}
			if len(nn.NamedParams(m)) == 0 || m.ParamSet().Len() == 0 {
				t.Errorf("%s: no parameters", name)
			}
		}
	}
	if _, err := New("resnet-9000", Shape{1, 28, 28, 10}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("unknown model accepted")
	}
}

func TestMLPNames(t *testing.T) {
	m, _ := NewMLP(Shape{1, 4, 4, 3}, []int{8}, rand.New(rand.NewPCG(1, 1)))
	var names []string
	for _, p := range nn.NamedParams(m) {
		names = append(names, p.Name)
	}
	want := []string{"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"}
	if len(names) != len(want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("names %v, want %v", names, want)
		}
	}
}
