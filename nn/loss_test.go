package nn

import (
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/tensor"
)

func reductionOf(t *testing.T, c golden.Case) Reduction {
	switch c.String(t, "reduction") {
	case "sum":
		return Sum
	case "none":
		return None
	}
	return Mean
}

func ints(d []float32) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

func optTensor(t *testing.T, c golden.Case, name string) *tensor.Tensor {
	if !c.Has(name) {
		return nil
	}
	return goldenTensor(c.T(t, name))
}

// TestLossesGolden compares every loss, its reductions and options, and its
// input gradient with PyTorch's.
func TestLossesGolden(t *testing.T) {
	for _, c := range golden.Load(t, "losses") {
		t.Run(c.Name, func(t *testing.T) {
			g := autograd.NewTape()
			x := autograd.NewVar(goldenTensor(c.T(t, "x")), true)
			target := c.T(t, "target")
			var weight []float32
			if c.Has("weight") {
				weight = c.T(t, "weight").Data
			}
			var y *autograd.Var
			switch c.String(t, "op") {
			case "cross_entropy":
				l := &CrossEntropyLoss{Weight: weight, IgnoreIndex: c.Int(t, "ignore_index"),
					LabelSmoothing: c.Float(t, "label_smoothing"), Reduction: reductionOf(t, c)}
				if c.String(t, "target_kind") == "probs" {
					y = l.ForwardProbs(g, x, goldenTensor(target))
				} else {
					y = l.Forward(g, x, ints(target.Data))
				}
			case "nll_loss":
				l := &NLLLoss{Weight: weight, IgnoreIndex: c.Int(t, "ignore_index"), Reduction: reductionOf(t, c)}
				y = l.Forward(g, x, ints(target.Data))
			case "mse_loss":
				y = MSELoss(g, x, goldenTensor(target), reductionOf(t, c))
			case "binary_cross_entropy_with_logits":
				y = BCEWithLogitsLoss(g, x, goldenTensor(target), optTensor(t, c, "weight"), optTensor(t, c, "pos_weight"), reductionOf(t, c))
			default:
				t.Fatalf("unknown loss %q", c.String(t, "op"))
			}
			if !tensor.SameShape(y.Value(), goldenTensor(c.T(t, "y"))) {
				t.Fatalf("loss shape %v, want %v", y.Shape(), c.T(t, "y").Shape)
			}
			golden.Close(t, "loss", y.Value().Values(), c.T(t, "y").Data, 1e-5, 1e-7)
			g.BackwardWith(y, goldenTensor(c.T(t, "dy")))
			golden.Close(t, "grad.x", x.Grad().Values(), c.T(t, "grad.x").Data, 1e-5, 1e-7)
		})
	}
}

// TestLossGradients checks the composite losses against finite differences.
func TestLossGradients(t *testing.T) {
	target := []int{1, 0, 3, 3, 2}
	probs := tensor.Softmax(nil, autogradtest.Rand(9, -2, 2, 5, 4), 1)
	tgt := autogradtest.Rand(8, 0, 1, 5, 4)
	cases := []struct {
		name string
		f    autogradtest.Func
	}{
		{"ce/smooth-weight-ignore", func(g *autograd.Tape, in []*autograd.Var) *autograd.Var {
			l := &CrossEntropyLoss{Weight: []float32{1, 2, 0.5, 1.5}, IgnoreIndex: 0, LabelSmoothing: 0.2}
			return l.Forward(g, in[0], target)
		}},
		{"ce/probs-smooth", func(g *autograd.Tape, in []*autograd.Var) *autograd.Var {
			l := &CrossEntropyLoss{IgnoreIndex: NoIgnore, LabelSmoothing: 0.1, Reduction: Sum}
			return l.ForwardProbs(g, in[0], probs)
		}},
		{"mse", func(g *autograd.Tape, in []*autograd.Var) *autograd.Var { return MSELoss(g, in[0], tgt, Mean) }},
		{"bce/pos-weight", func(g *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return BCEWithLogitsLoss(g, in[0], tgt, nil, tensor.FromSlice([]float32{1, 2, 3, 0.5}, 4), Sum)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			autogradtest.Check(t, c.f, []*tensor.Tensor{autogradtest.Rand(1, -2, 2, 5, 4)}, autogradtest.Options{})
		})
	}
}
