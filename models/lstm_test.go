package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// TestRNNClassifierMatchesPyTorch loads PyTorch's weights into the text
// classifiers by state_dict name and compares logits and every parameter
// gradient with testdata/make_text.py's run of the same module on padded,
// unsorted batches, both with the lengths given and read from the padding.
func TestRNNClassifierMatchesPyTorch(t *testing.T) {
	f, err := golden.ReadFile("testdata/textzoo.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) != 3 {
		t.Fatalf("%d cases, want 3", len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			s := TextShape{Vocab: c.Int(t, "vocab"), Classes: c.Int(t, "classes")}
			cfg := RNNClassifierConfig{GRU: c.Bool(t, "gru"), EmbedDim: c.Int(t, "embed_dim"), Hidden: c.Int(t, "hidden"),
				Layers: c.Int(t, "layers"), Bidirectional: c.Bool(t, "bidirectional"), Dropout: float32(c.Float(t, "dropout"))}
			m, err := NewRNNClassifier(s, cfg, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range nn.NamedParams(m) {
				want := c.T(t, p.Name) // fails when PyTorch has no such key
				if !slices.Equal(p.Var.Shape(), want.Shape) {
					t.Fatalf("%s: shape %v, PyTorch's %v", p.Name, p.Var.Shape(), want.Shape)
				}
				copy(p.Var.Data(), want.Data)
			}
			for name := range c.Tensors {
				switch {
				case name == "x" || name == "lengths" || name == "y" || name == "dy" || strings.HasPrefix(name, "grad."):
				default:
					if _, ok := m.ParamSet().Lookup(name); !ok {
						t.Errorf("PyTorch's state_dict has %s, kiln's model does not", name)
					}
				}
			}
			xg, lg := c.T(t, "x"), c.T(t, "lengths")
			lengths := make([]int, len(lg.Data))
			for i, l := range lg.Data {
				lengths[i] = int(l)
			}
			nn.SetTraining(m, false)
			for _, given := range []bool{true, false} {
				m.ParamSet().ZeroGrad()
				g := autograd.NewTape()
				x := g.Const(tensor.FromSlice(slices.Clone(xg.Data), xg.Shape...))
				var y *autograd.Var
				if given {
					y = m.ForwardLengths(g, x, lengths)
				} else {
					y = m.Forward(g, x)
				}
				golden.Close(t, "logits", y.Value().Values(), c.T(t, "y").Data, 1e-4, 1e-5)
				dy := c.T(t, "dy")
				g.BackwardWith(y, tensor.FromSlice(dy.Data, dy.Shape...))
				for _, p := range m.ParamSet().Params {
					golden.Close(t, "grad."+p.Name, p.Var.Grad().Values(), c.T(t, "grad."+p.Name).Data, 1e-4, 1e-5)
				}
			}
		})
	}
}

// TestRNNClassifierIgnoresPadding checks that a text's logits are the same
// alone and unpadded as in a batch with longer texts, whatever ids sit
// past its length when the lengths are given.
func TestRNNClassifierIgnoresPadding(t *testing.T) {
	for _, cfg := range []RNNClassifierConfig{
		{EmbedDim: 4, Hidden: 3, Bidirectional: true},
		{EmbedDim: 4, Hidden: 3, Layers: 2},
		{GRU: true, EmbedDim: 4, Hidden: 3, Layers: 2, Bidirectional: true},
	} {
		m, err := NewRNNClassifier(TextShape{Vocab: 9, Classes: 4}, cfg, rand.New(rand.NewPCG(3, 4)))
		if err != nil {
			t.Fatal(err)
		}
		nn.SetTraining(m, false)
		g := autograd.NewTape()
		batch := []float32{
			5, 2, 0, 0, 0,
			1, 2, 3, 4, 5,
			7, 8, 8, 0, 0,
		}
		ys := m.Forward(g, g.Const(tensor.FromSlice(batch, 3, 5))).Value().Values()
		junk := []float32{
			5, 2, 8, 8, 8,
			1, 2, 3, 4, 5,
			7, 8, 8, 6, 1,
		}
		yj := m.ForwardLengths(g, g.Const(tensor.FromSlice(junk, 3, 5)), []int{2, 5, 3}).Value().Values()
		golden.Close(t, "junk padding", yj, ys, 1e-5, 1e-6)
		for b, row := range [][]float32{{5, 2}, {1, 2, 3, 4, 5}, {7, 8, 8}} {
			y := m.Forward(g, g.Const(tensor.FromSlice(row, 1, len(row)))).Value().Values()
			golden.Close(t, "alone", y, ys[b*4:(b+1)*4], 1e-5, 1e-6)
		}
	}
}

func TestRNNClassifierNames(t *testing.T) {
	m, err := NewText("lstm-classifier", TextShape{Vocab: 10, Classes: 3}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range nn.NamedParams(m) {
		names = append(names, p.Name+fmt.Sprint(p.Var.Shape()))
	}
	want := []string{"embedding.weight[10 64]",
		"lstm.weight_ih_l0[512 64]", "lstm.weight_hh_l0[512 128]", "lstm.bias_ih_l0[512]", "lstm.bias_hh_l0[512]",
		"lstm.weight_ih_l0_reverse[512 64]", "lstm.weight_hh_l0_reverse[512 128]", "lstm.bias_ih_l0_reverse[512]", "lstm.bias_hh_l0_reverse[512]",
		"fc.weight[3 256]", "fc.bias[3]"}
	if !slices.Equal(names, want) {
		t.Errorf("names\n%q\nwant\n%q", names, want)
	}
	if emb := m.(*RNNClassifier).Embedding.Weight.Data(); slices.ContainsFunc(emb[:64], func(v float32) bool { return v != 0 }) {
		t.Error("padding row not zero")
	}
	g, err := NewText("gru-classifier", TextShape{Vocab: 10, Classes: 3}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.ParamSet().Lookup("gru.weight_hh_l0_reverse"); !ok {
		t.Error("gru-classifier has no gru.weight_hh_l0_reverse")
	}
	if !slices.Equal(TextNames(), []string{"gru-classifier", "lstm-classifier"}) || !IsText("lstm-classifier") || IsText("resnet8") {
		t.Errorf("text names %v", TextNames())
	}
	if _, err := NewText("resnet8", TextShape{Vocab: 10, Classes: 3}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("an image model built as a text model")
	}
}

func TestRNNClassifierErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		s    TextShape
		cfg  RNNClassifierConfig
		want string
	}{
		{TextShape{Vocab: 2, Classes: 3}, RNNClassifierConfig{}, "vocabulary of at least 3"},
		{TextShape{Vocab: 5, Classes: 1}, RNNClassifierConfig{}, "2 classes"},
		{TextShape{Vocab: 5, Classes: 2}, RNNClassifierConfig{Hidden: -1}, "hidden -1"},
		{TextShape{Vocab: 5, Classes: 2}, RNNClassifierConfig{Dropout: 1}, "dropout 1"},
	} {
		if _, err := NewRNNClassifier(tc.s, tc.cfg, rng); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "models: ") {
			t.Errorf("%+v %+v: error %v, want one mentioning %q", tc.s, tc.cfg, err, tc.want)
		}
	}
}

// BenchmarkRNNClassifierStep times one training step (forward, backward)
// of the full language-identification demo's model on a batch of 64 rows
// of 23 characters with ragged lengths, and reports sequences per second.
func BenchmarkRNNClassifierStep(b *testing.B) {
	for _, cfg := range []RNNClassifierConfig{
		{EmbedDim: 32, Hidden: 64, Bidirectional: true},
		{GRU: true, EmbedDim: 32, Hidden: 64, Bidirectional: true},
	} {
		name := "lstm"
		if cfg.GRU {
			name = "gru"
		}
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			m, err := NewRNNClassifier(TextShape{Vocab: 60, Classes: 11}, cfg, rng)
			if err != nil {
				b.Fatal(err)
			}
			const n, T = 64, 23
			x := tensor.New(n, T)
			xd := x.Data()
			y := make([]int, n)
			for i := range n {
				l := 4 + rng.IntN(T-3)
				for j := range l {
					xd[i*T+j] = float32(2 + rng.IntN(58))
				}
				y[i] = rng.IntN(11)
			}
			loss := nn.NewCrossEntropyLoss()
			g := autograd.NewTape()
			b.ResetTimer()
			for range b.N {
				g.Reset()
				l := loss.Forward(g, m.Forward(g, g.Const(x)), y)
				m.ParamSet().ZeroGrad()
				g.Backward(l)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "seq/s")
		})
	}
}
