package models

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// TestZooMatchesPyTorch loads PyTorch's weights into lenet5 and resnet8 by
// state_dict name and compares the train-mode logits, the input gradient,
// the parameter gradients that were saved, the running statistics after the
// forward pass, and the eval-mode logits that follow, with
// testdata/make.py's run of the same modules.
func TestZooMatchesPyTorch(t *testing.T) {
	f, err := golden.ReadFile("testdata/zoo.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) != 2 {
		t.Fatalf("%d cases, want resnet8 and lenet5", len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			s := Shape{c.Int(t, "in_channels"), c.Int(t, "height"), c.Int(t, "width"), c.Int(t, "classes")}
			m, err := New(c.String(t, "model"), s, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			ps := nn.NamedParams(m)
			loaded := 0
			for _, p := range ps {
				want := c.T(t, p.Name) // fails when PyTorch has no such key
				if !slices.Equal(p.Var.Shape(), want.Shape) {
					t.Fatalf("%s: shape %v, PyTorch's %v", p.Name, p.Var.Shape(), want.Shape)
				}
				copy(p.Var.Data(), want.Data)
				loaded++
			}
			// Every state_dict key of PyTorch's module is one of ours.
			for name := range c.Tensors {
				if isStateKey(name) {
					if _, ok := m.ParamSet().Lookup(name); !ok {
						t.Errorf("PyTorch's state_dict has %s, kiln's model does not", name)
					}
				}
			}
			t.Logf("loaded %d tensors, %d trainable scalars", loaded, m.ParamSet().Len())

			xg := c.T(t, "x")
			x := autograd.NewVar(tensor.FromSlice(slices.Clone(xg.Data), xg.Shape...), true)
			dy := c.T(t, "dy")
			nn.SetTraining(m, true)
			m.ParamSet().ZeroGrad()
			g := autograd.NewTape()
			y := m.Forward(g, x)
			golden.Close(t, "train logits", y.Value().Values(), c.T(t, "y").Data, 1e-4, 1e-5)
			g.BackwardWith(y, tensor.FromSlice(dy.Data, dy.Shape...))
			golden.Close(t, "grad.x", x.Grad().Values(), c.T(t, "grad.x").Data, 1e-4, 1e-5)
			grads := 0
			for _, p := range ps {
				if c.Has("grad." + p.Name) {
					golden.Close(t, "grad."+p.Name, p.Var.Grad().Values(), c.T(t, "grad."+p.Name).Data, 1e-4, 1e-5)
					grads++
				}
				if c.Has("after." + p.Name) {
					golden.Close(t, "after."+p.Name, p.Var.Value().Values(), c.T(t, "after."+p.Name).Data, 1e-4, 1e-6)
				}
			}
			if grads == 0 {
				t.Error("no parameter gradient compared")
			}

			nn.SetTraining(m, false)
			g.Reset()
			ye := m.Forward(g, g.Const(tensor.FromSlice(xg.Data, xg.Shape...)))
			golden.Close(t, "eval logits", ye.Value().Values(), c.T(t, "y_eval").Data, 1e-4, 1e-5)
		})
	}
}

// isStateKey tells the state_dict entries of a case from its inputs and
// results.
func isStateKey(name string) bool {
	switch name {
	case "x", "dy", "y", "y_eval":
		return false
	}
	for _, p := range []string{"grad.", "after."} {
		if len(name) > len(p) && name[:len(p)] == p {
			return false
		}
	}
	return true
}
