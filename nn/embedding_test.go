package nn_test

import (
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests nn.Embedding against PyTorch (the Embedding cases of
// testdata/golden/rnn.json) and finite differences.

func TestEmbeddingGolden(t *testing.T) {
	n := 0
	for _, c := range golden.Load(t, "rnn") {
		if c.String(t, "op") != "Embedding" {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			num := c.Int(t, "num_embeddings")
			pad := nn.NoPadding
			if c.Attrs["padding_idx"] != nil {
				pad = (c.Int(t, "padding_idx") + num) % num
			}
			e := nn.NewEmbedding(num, c.Int(t, "embedding_dim"), pad, seqRng(1))
			copy(e.Weight.Data(), c.T(t, "weight").Data)
			g := autograd.NewTape()
			y := e.Forward(g, g.Const(seqTensor(c.T(t, "x"))))
			want := c.T(t, "y")
			if !y.Value().ShapeIs(want.Shape...) {
				t.Fatalf("y shape %v, golden %v", y.Shape(), want.Shape)
			}
			golden.Close(t, "y", y.Data(), want.Data, 0, 0)
			g.BackwardWith(y, seqTensor(c.T(t, "dy")))
			golden.Close(t, "grad.weight", e.Weight.Grad().Data(), c.T(t, "grad.weight").Data, 1e-6, 1e-7)
		})
	}
	if n < 4 {
		t.Errorf("only %d embedding golden cases", n)
	}
}

// TestEmbeddingInit checks PyTorch's initialisation: N(0, 1) with the
// padding row zeroed.
func TestEmbeddingInit(t *testing.T) {
	e := nn.NewEmbedding(200, 50, 7, seqRng(2))
	var s, s2 float64
	for i, v := range e.Weight.Data() {
		if i/50 == 7 {
			if v != 0 {
				t.Fatalf("padding row holds %v", v)
			}
			continue
		}
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(199 * 50)
	mean, std := s/n, s2/n-(s/n)*(s/n)
	if mean < -0.05 || mean > 0.05 || std < 0.95 || std > 1.05 {
		t.Errorf("mean %.3f, variance %.3f, want N(0, 1)", mean, std)
	}
	if ps := nn.NamedParams(e); len(ps) != 1 || ps[0].Name != "weight" {
		t.Errorf("params %v", ps)
	}
}

func TestEmbeddingGradient(t *testing.T) {
	e := nn.NewEmbedding(6, 3, nn.NoPadding, seqRng(1))
	idx := tensor.FromSlice([]float32{5, 0, 5, 2, 2, 2}, 2, 3)
	f := func(g *autograd.Tape, in []*autograd.Var) *autograd.Var {
		e.Weight = in[0]
		return e.Forward(g, g.Const(idx))
	}
	autogradtest.Check(t, f, []*tensor.Tensor{e.Weight.Value()}, autogradtest.Options{})
	g := autograd.NewTape()
	if y := e.Lookup(g, []int{1, 2, 3, 4}, 2, 2); !y.Value().ShapeIs(2, 2, 3) || y.Value().At(1, 0, 2) != e.Weight.Value().At(3, 2) {
		t.Errorf("Lookup: %v", y.Value())
	}
}

func TestEmbeddingBadArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"padding-high", func() { nn.NewEmbedding(4, 2, 4, seqRng(1)) }},
		{"padding-negative", func() { nn.NewEmbedding(4, 2, -2, seqRng(1)) }},
		{"empty", func() { nn.NewEmbedding(0, 2, nn.NoPadding, seqRng(1)) }},
		{"index", func() {
			g := autograd.NewTape()
			nn.NewEmbedding(4, 2, nn.NoPadding, seqRng(1)).Forward(g, g.Const(tensor.FromSlice([]float32{4}, 1)))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f()
		})
	}
}
