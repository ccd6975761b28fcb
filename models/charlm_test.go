package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

func newTestLM(t *testing.T, vocab int, cfg CharLMConfig) *CharLM {
	t.Helper()
	m, err := NewCharLM(vocab, cfg, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCharLMShapesAndNames checks the output shape and that the parameters
// carry the PyTorch module's state_dict names and shapes.
func TestCharLMShapesAndNames(t *testing.T) {
	m := newTestLM(t, 11, CharLMConfig{EmbedDim: 5, Hidden: 7, Layers: 2, Dropout: 0.5})
	var names []string
	for _, p := range nn.NamedParams(m) {
		names = append(names, p.Name+fmt.Sprint(p.Var.Shape()))
	}
	want := []string{"embedding.weight[11 5]",
		"lstm.weight_ih_l0[28 5]", "lstm.weight_hh_l0[28 7]", "lstm.bias_ih_l0[28]", "lstm.bias_hh_l0[28]",
		"lstm.weight_ih_l1[28 7]", "lstm.weight_hh_l1[28 7]", "lstm.bias_ih_l1[28]", "lstm.bias_hh_l1[28]",
		"fc.weight[11 7]", "fc.bias[11]"}
	if !slices.Equal(names, want) {
		t.Errorf("parameters\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	g := autograd.NewTape()
	x := tensor.FromSlice([]float32{2, 3, 4, 10, 2, 2}, 2, 3)
	if y := m.Forward(g, g.Const(x)); !slices.Equal(y.Shape(), []int{2, 3, 11}) {
		t.Errorf("logits %v, want [2 3 11]", y.Shape())
	}
	for _, bad := range []struct {
		vocab int
		cfg   CharLMConfig
	}{{2, CharLMConfig{}}, {10, CharLMConfig{Hidden: -1}}, {10, CharLMConfig{Dropout: 1}}} {
		if _, err := NewCharLM(bad.vocab, bad.cfg, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("NewCharLM(%d, %+v) succeeded", bad.vocab, bad.cfg)
		}
	}
}

// TestCharLMGenerateCarriesState generates greedily, one token at a time
// with the LSTM's states carried between steps, and requires every token
// to be the arg-max of a single Forward pass over the whole sequence: the
// stepping must be the same computation as reading the text at once.
func TestCharLMGenerateCarriesState(t *testing.T) {
	m := newTestLM(t, 9, CharLMConfig{EmbedDim: 6, Hidden: 10, Layers: 2, Dropout: 0.3})
	prime := []int{2, 5, 3}
	gen, err := m.Generate(prime, 12, 0, nil, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(gen) != 12 {
		t.Fatalf("%d tokens, want 12", len(gen))
	}
	seq := append(slices.Clone(prime), gen...)
	x := make([]float32, len(seq)-1)
	for i, id := range seq[:len(seq)-1] {
		x[i] = float32(id)
	}
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	logits := m.Forward(g, g.Const(tensor.FromSlice(x, 1, len(x)))).Data()
	V := m.Vocab
	for i, id := range gen {
		row := logits[(len(prime)-1+i)*V : (len(prime)+i)*V]
		best := 2 // 0 and 1 are banned
		for j := 2; j < V; j++ {
			if row[j] > row[best] {
				best = j
			}
		}
		if id != best {
			t.Fatalf("token %d: generated %d, full pass's arg-max %d", i, id, best)
		}
	}
}

// TestCharLMGenerateSeeds checks that sampling is a function of the
// generator's seed, and that banned ids never come out.
func TestCharLMGenerateSeeds(t *testing.T) {
	m := newTestLM(t, 7, CharLMConfig{EmbedDim: 4, Hidden: 6})
	gen := func(seed uint64, temp float64) []int {
		out, err := m.Generate([]int{3}, 200, temp, rand.New(rand.NewPCG(seed, 0)), 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b, c := gen(1, 1), gen(1, 1), gen(2, 1)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different samples")
	}
	if slices.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same 200 tokens")
	}
	for _, id := range append(a, c...) {
		if id < 2 || id >= 7 {
			t.Fatalf("sampled id %d, want 2..6 (0 and 1 banned)", id)
		}
	}
	for _, bad := range []struct {
		prime []int
		temp  float64
	}{{nil, 1}, {[]int{7}, 1}, {[]int{2}, -1}, {[]int{2}, math.NaN()}} {
		if _, err := m.Generate(bad.prime, 3, bad.temp, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("Generate(%v, temperature %v) succeeded", bad.prime, bad.temp)
		}
	}
	if _, err := m.Generate([]int{2}, 3, 0.5, nil); err == nil {
		t.Error("sampling without a generator succeeded")
	}
}

// TestPickFollowsTemperedSoftmax draws many tokens from fixed logits and
// compares the frequencies with softmax(logits/T).
func TestPickFollowsTemperedSoftmax(t *testing.T) {
	logits := []float32{0, float32(math.Log(2)), float32(math.Log(4)), 9}
	ban := []bool{false, false, false, true}
	rng := rand.New(rand.NewPCG(5, 6))
	probs := make([]float64, 4)
	for _, tc := range []struct {
		temp float64
		want []float64
	}{
		{1, []float64{1.0 / 7, 2.0 / 7, 4.0 / 7, 0}},
		{2, []float64{1 / (1 + math.Sqrt2 + 2), math.Sqrt2 / (1 + math.Sqrt2 + 2), 2 / (1 + math.Sqrt2 + 2), 0}},
		{0, []float64{0, 0, 1, 0}},
	} {
		const n = 20000
		counts := make([]float64, 4)
		for range n {
			counts[pick(logits, probs, ban, tc.temp, rng)]++
		}
		for i, w := range tc.want {
			if got := counts[i] / n; math.Abs(got-w) > 0.015 {
				t.Errorf("temperature %v: token %d drawn %.4f of the time, want %.4f", tc.temp, i, got, w)
			}
		}
	}
}
