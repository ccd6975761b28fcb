package models

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

func TestLeNet5Sizes(t *testing.T) {
	for _, tc := range []struct {
		s         Shape
		pad, fcIn int
	}{
		{Shape{1, 28, 28, 10}, 2, 16 * 5 * 5}, // MNIST: padded to 32x32
		{Shape{3, 32, 32, 10}, 0, 16 * 5 * 5}, // CIFAR: LeCun's input size
		{Shape{1, 12, 12, 2}, 2, 16},          // the smallest accepted
		{Shape{3, 64, 48, 7}, 0, 16 * 13 * 9}, // 60x44 -> 30x22 -> 26x18 -> 13x9
		{Shape{1, 20, 40, 3}, 2, 16 * 3 * 8},  // one side under 32 pads both
	} {
		t.Run(fmt.Sprint(tc.s), func(t *testing.T) {
			m, err := NewLeNet5(tc.s, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if m.Conv1.Config.Padding != [2]int{tc.pad, tc.pad} {
				t.Errorf("conv1 padding %v, want %d", m.Conv1.Config.Padding, tc.pad)
			}
			want := map[string][]int{"conv1.weight": {6, tc.s.Channels, 5, 5}, "conv1.bias": {6}, "conv2.weight": {16, 6, 5, 5}, "conv2.bias": {16},
				"fc1.weight": {120, tc.fcIn}, "fc1.bias": {120}, "fc2.weight": {84, 120}, "fc2.bias": {84},
				"fc3.weight": {tc.s.Classes, 84}, "fc3.bias": {tc.s.Classes}}
			ps := nn.NamedParams(m)
			if len(ps) != len(want) {
				t.Fatalf("%d parameters, want %d", len(ps), len(want))
			}
			for _, p := range ps {
				if w, ok := want[p.Name]; !ok || fmt.Sprint(w) != fmt.Sprint(p.Var.Shape()) {
					t.Errorf("parameter %s %v, want %v", p.Name, p.Var.Shape(), w)
				}
			}
			g := autograd.NewTape()
			y := m.Forward(g, g.Const(tensor.New(2, tc.s.Channels, tc.s.Height, tc.s.Width)))
			if !y.Value().ShapeIs(2, tc.s.Classes) {
				t.Errorf("logits %v", y.Shape())
			}
		})
	}
}

func TestLeNet5Rejects(t *testing.T) {
	for _, s := range []Shape{{1, 11, 28, 10}, {1, 28, 11, 10}, {0, 28, 28, 10}, {1, 28, 28, 1}} {
		if _, err := NewLeNet5(s, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("%v accepted", s)
		}
	}
}
