package nn_test

import (
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests Flatten's output shapes and storage sharing; its values
// and gradients are in the activations golden test.

func TestFlattenShapes(t *testing.T) {
	cases := []struct {
		start, end int
		in, want   []int
	}{
		{1, -1, []int{2, 3, 4, 5}, []int{2, 60}},
		{0, -1, []int{2, 3, 4, 5}, []int{120}},
		{1, 2, []int{2, 3, 4, 5}, []int{2, 12, 5}},
		{-3, -2, []int{2, 3, 4, 5}, []int{2, 12, 5}},
		{2, 3, []int{2, 3, 4, 5}, []int{2, 3, 20}},
		{0, 0, []int{2, 3, 4, 5}, []int{2, 3, 4, 5}},
		{3, -1, []int{2, 3, 4, 5}, []int{2, 3, 4, 5}},
		{1, -1, []int{7, 1}, []int{7, 1}},
		{0, -1, []int{}, []int{1}},
		{1, -1, []int{2, 0, 3}, []int{2, 0}},
	}
	for _, c := range cases {
		g := autograd.NewTape()
		x := g.Const(tensor.New(c.in...))
		y := nn.NewFlatten(c.start, c.end).Forward(g, x)
		if !slices.Equal(y.Shape(), c.want) {
			t.Errorf("flatten(%d, %d) of %v: %v, want %v", c.start, c.end, c.in, y.Shape(), c.want)
		}
		if len(x.Data()) > 0 {
			x.Data()[0] = 42
			if y.Data()[0] != 42 {
				t.Errorf("flatten(%d, %d) of %v copied its input", c.start, c.end, c.in)
			}
		}
	}
}

func TestFlattenPanics(t *testing.T) {
	for _, c := range []struct{ start, end int }{{2, 1}, {4, -1}, {0, 4}, {-5, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("flatten(%d, %d) of a 4-d input did not panic", c.start, c.end)
				}
			}()
			g := autograd.NewTape()
			nn.NewFlatten(c.start, c.end).Forward(g, g.Const(tensor.New(2, 3, 4, 5)))
		}()
	}
}
