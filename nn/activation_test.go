package nn_test

import (
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests the activation layers and Flatten against PyTorch and
// finite differences. The golden group also holds torch.logsumexp, which
// has no layer; it is checked through the tape op directly.

// coreFunc adapts a function to nn.Module.
type coreFunc func(g *autograd.Tape, x *autograd.Var) *autograd.Var

func (f coreFunc) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var { return f(g, x) }

// coreActivation builds the module a golden activations case describes.
func coreActivation(t *testing.T, c golden.Case) nn.Module {
	switch op := c.String(t, "op"); op {
	case "relu":
		return nn.NewReLU()
	case "leaky_relu":
		return nn.NewLeakyReLU(float32(c.Float(t, "negative_slope")))
	case "sigmoid":
		return nn.NewSigmoid()
	case "tanh":
		return nn.NewTanh()
	case "gelu":
		return nn.NewGELU(c.String(t, "approximate"))
	case "softmax":
		return nn.NewSoftmax(c.Int(t, "dim"))
	case "log_softmax":
		return nn.NewLogSoftmax(c.Int(t, "dim"))
	case "flatten":
		return nn.NewFlatten(c.Int(t, "start_dim"), c.Int(t, "end_dim"))
	case "logsumexp":
		dim, keep := c.Int(t, "dim"), c.Bool(t, "keepdim")
		return coreFunc(func(g *autograd.Tape, x *autograd.Var) *autograd.Var { return g.LogSumExp(x, dim, keep) })
	default:
		t.Fatalf("unknown op %q", op)
		return nil
	}
}

func TestActivationGolden(t *testing.T) {
	ops := map[string]bool{}
	for _, c := range golden.Load(t, "activations") {
		ops[c.String(t, "op")] = true
		t.Run(c.Name, func(t *testing.T) {
			coreGolden(t, c, coreActivation(t, c), 1e-5, 1e-6)
		})
	}
	if len(ops) < 9 {
		t.Errorf("golden file covers only %d ops", len(ops))
	}
}

func TestActivationGradients(t *testing.T) {
	cases := []struct {
		name string
		m    nn.Module
		x    *tensor.Tensor
	}{
		{"relu", nn.NewReLU(), coreAway(1, 3, 4)},
		{"leaky_relu", nn.NewLeakyReLU(nn.DefaultNegativeSlope), coreAway(2, 3, 4)},
		{"leaky_relu_0.3", nn.NewLeakyReLU(0.3), coreAway(3, 2, 2, 3)},
		{"sigmoid", nn.NewSigmoid(), autogradtest.Rand(4, -3, 3, 3, 4)},
		{"tanh", nn.NewTanh(), autogradtest.Rand(5, -2, 2, 3, 4)},
		{"gelu", nn.NewGELU("none"), autogradtest.Rand(6, -3, 3, 3, 4)},
		{"gelu_tanh", nn.NewGELU("tanh"), autogradtest.Rand(7, -3, 3, 3, 4)},
		{"softmax_dim1", nn.NewSoftmax(1), autogradtest.Rand(8, -2, 2, 2, 4, 3)},
		{"softmax_dim-1", nn.NewSoftmax(-1), autogradtest.Rand(9, -2, 2, 3, 5)},
		{"log_softmax_dim0", nn.NewLogSoftmax(0), autogradtest.Rand(10, -2, 2, 4, 3)},
		{"log_softmax_dim-1", nn.NewLogSoftmax(-1), autogradtest.Rand(11, -2, 2, 2, 3, 4)},
		{"flatten", nn.NewFlatten(1, -1), autogradtest.Rand(12, -1, 1, 2, 3, 2)},
		{"flatten_middle", nn.NewFlatten(1, 2), autogradtest.Rand(13, -1, 1, 2, 3, 2, 2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The product with a constant makes the gradient depend on where
			// each element went, which a reshape alone would not show.
			w := autogradtest.Rand(99, -1, 1, c.x.Len())
			f := func(g *coreT, v []*coreV) *coreV {
				y := c.m.Forward(g, v[0])
				return g.Mul(g.Reshape(y, -1), g.Const(w))
			}
			autogradtest.Check(t, f, []*tensor.Tensor{c.x}, autogradtest.Options{})
		})
	}
}

func TestGELUApproximate(t *testing.T) {
	if nn.NewGELU("none").TanhApprox || !nn.NewGELU("tanh").TanhApprox {
		t.Error("approximate not mapped")
	}
	defer func() {
		if recover() == nil {
			t.Error(`NewGELU("erf") did not panic`)
		}
	}()
	nn.NewGELU("erf")
}
