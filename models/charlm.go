package models

// The character-level language model (char-lm) and its sampler. This file
// leaves out truncated backpropagation through time across windows (each
// training window starts from zero states), beam search, top-k and nucleus
// sampling, and word-level language models.

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// CharLMName is the zoo name of CharLM, the model `kiln train --task lm`
// trains.
const CharLMName = "char-lm"

// CharLMConfig sizes a CharLM. Zero values take the defaults.
type CharLMConfig struct {
	EmbedDim int     // default 32
	Hidden   int     // LSTM hidden units; default 128
	Layers   int     // stacked LSTM layers; default 1
	Dropout  float32 // between LSTM layers (Layers > 1), in training mode
}

// CharLM predicts the next token of a sequence at every step:
//
//	Embedding(vocab, dim) -> LSTM (batch_first) -> Linear(vocab)
//
// Its parameters are named as the PyTorch module with attributes
// embedding, lstm and fc ("embedding.weight", "lstm.weight_ih_l0", ...,
// "fc.weight", "fc.bias"). Ids are numbered as package data/text numbers
// them; the model never needs padding, since language-model windows are
// all full, so the embedding has no padding row.
//
// The dropout between LSTM layers draws from a generator seeded from the
// initialisation generator; a trainer that saves generators replaces it
// (train does, in its generator registry).
type CharLM struct {
	Vocab     int
	Config    CharLMConfig
	Embedding *nn.Embedding
	LSTM      *nn.Recurrent
	FC        *nn.Linear
	Params    *nn.ParamSet
}

var (
	_ Model        = (*CharLM)(nil)
	_ nn.Container = (*CharLM)(nil)
)

// NewCharLM builds a language model over vocab token ids, initialised from
// rng as PyTorch initialises each layer, with its parameters packed.
func NewCharLM(vocab int, cfg CharLMConfig, rng *rand.Rand) (*CharLM, error) {
	if vocab < 3 {
		return nil, fmt.Errorf("models: %s needs a vocabulary of at least 3 ids (padding, unknown and a token), got %d", CharLMName, vocab)
	}
	if cfg.EmbedDim == 0 {
		cfg.EmbedDim = 32
	}
	if cfg.Hidden == 0 {
		cfg.Hidden = 128
	}
	if cfg.Layers == 0 {
		cfg.Layers = 1
	}
	if cfg.EmbedDim < 1 || cfg.Hidden < 1 || cfg.Layers < 1 || !(cfg.Dropout >= 0 && cfg.Dropout < 1) {
		return nil, fmt.Errorf("models: %s with embedding %d, hidden %d, %d layers and dropout %v; want sizes >= 1 and dropout in [0, 1)",
			CharLMName, cfg.EmbedDim, cfg.Hidden, cfg.Layers, cfg.Dropout)
	}
	m := &CharLM{Vocab: vocab, Config: cfg}
	m.Embedding = nn.NewEmbedding(vocab, cfg.EmbedDim, nn.NoPadding, rng)
	rc := nn.RecurrentConfig{InputSize: cfg.EmbedDim, HiddenSize: cfg.Hidden, NumLayers: cfg.Layers, BatchFirst: true}
	if cfg.Layers > 1 && cfg.Dropout > 0 {
		rc.Dropout, rc.DropoutRng = cfg.Dropout, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	}
	m.LSTM = &nn.NewLSTM(rc, rng).Recurrent
	m.FC = nn.NewLinear(cfg.Hidden, vocab, true, rng)
	m.Params = nn.Pack(m)
	return m, nil
}

// ParamSet returns the packed parameters.
func (m *CharLM) ParamSet() *nn.ParamSet { return m.Params }

// Children names the layers as the PyTorch module's attributes.
func (m *CharLM) Children() []nn.Child {
	return []nn.Child{{Name: "embedding", Module: m.Embedding}, {Name: "lstm", Module: m.LSTM}, {Name: "fc", Module: m.FC}}
}

// Forward maps token ids x (N, T), float32 values that are exact integers
// in [0, Vocab), to next-token logits (N, T, Vocab): row (n, t) scores the
// token that follows x[n, 0..t]. Every sequence starts from zero states.
func (m *CharLM) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	xs := x.Shape()
	if len(xs) != 2 || xs[0] < 1 || xs[1] < 1 {
		panic(fmt.Sprintf("models: %s input %v, want (N, T) token ids", CharLMName, xs))
	}
	out, _, _ := m.LSTM.Run(g, m.Embedding.Forward(g, x), nn.RecurrentState{})
	return m.FC.Forward(g, out)
}

// Generate continues prime (token ids, at least one) by n tokens and
// returns them. Each token is drawn from softmax(logits/temperature) with
// rng, or is the most likely one (the lowest id among ties) when
// temperature is 0; ids in banned (padding and unknown, say) are never
// produced. The same prime, temperature and rng state give the same tokens.
// Generate puts the model in evaluation mode.
func (m *CharLM) Generate(prime []int, n int, temperature float64, rng *rand.Rand, banned ...int) ([]int, error) {
	switch {
	case len(prime) == 0:
		return nil, fmt.Errorf("models: %s: generation needs at least one token to start from", CharLMName)
	case !(temperature >= 0) || math.IsInf(temperature, 1):
		return nil, fmt.Errorf("models: %s: temperature %v, want 0 (greedy) or more", CharLMName, temperature)
	case temperature > 0 && rng == nil:
		return nil, fmt.Errorf("models: %s: sampling at temperature %v needs a generator", CharLMName, temperature)
	case n < 0:
		return nil, fmt.Errorf("models: %s: %d tokens to generate", CharLMName, n)
	}
	for _, id := range prime {
		if id < 0 || id >= m.Vocab {
			return nil, fmt.Errorf("models: %s: prime token id %d outside the vocabulary of %d", CharLMName, id, m.Vocab)
		}
	}
	ban := make([]bool, m.Vocab)
	allowed := m.Vocab
	for _, id := range banned {
		if id >= 0 && id < m.Vocab && !ban[id] {
			ban[id] = true
			allowed--
		}
	}
	if allowed == 0 {
		return nil, fmt.Errorf("models: %s: every token is banned", CharLMName)
	}
	nn.SetTraining(m, false)
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	L, H := m.Config.Layers, m.Config.Hidden
	h, c := tensor.New(L, 1, H), tensor.New(L, 1, H)
	x := make([]float32, len(prime))
	for i, id := range prime {
		x[i] = float32(id)
	}
	probs := make([]float64, m.Vocab)
	out := make([]int, 0, n)
	for {
		// Each step runs the new tokens from the saved states, then copies
		// the states out so that the tape can be reset: memory stays flat
		// however long the text.
		g.Reset()
		st := nn.RecurrentState{H0: g.Const(h), C0: g.Const(c)}
		seq, hn, cn := m.LSTM.Run(g, m.Embedding.Forward(g, g.Const(tensor.FromSlice(x, 1, len(x)))), st)
		last := g.Narrow(seq, 1, len(x)-1, 1)
		logits := m.FC.Forward(g, last).Data()
		if len(out) == n {
			return out, nil
		}
		tensor.Copy(h, hn.Value())
		tensor.Copy(c, cn.Value())
		next := pick(logits, probs, ban, temperature, rng)
		out = append(out, next)
		x = append(x[:0], float32(next))
	}
}

// pick chooses the next token from logits: the arg-max at temperature 0,
// else a draw from the tempered softmax over the tokens not banned.
func pick(logits []float32, probs []float64, ban []bool, temperature float64, rng *rand.Rand) int {
	best := -1
	for i, v := range logits {
		if !ban[i] && (best < 0 || v > logits[best]) {
			best = i
		}
	}
	if temperature == 0 {
		return best
	}
	hi := float64(logits[best])
	var sum float64
	for i, v := range logits {
		probs[i] = 0
		if !ban[i] {
			probs[i] = math.Exp((float64(v) - hi) / temperature)
			sum += probs[i]
		}
	}
	u := rng.Float64() * sum
	last := best
	for i, p := range probs {
		if p == 0 {
			continue
		}
		if u < p {
			return i
		}
		u -= p
		last = i
	}
	return last // rounding left u just above the total
}
