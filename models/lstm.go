package models

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
)

// Recurrent text classifiers (lstm-classifier, gru-classifier) and the
// zoo of models built for token sequences rather than images. This file
// leaves out attention pooling and mean/max pooling over time (the final
// hidden state is the summary), pretrained embeddings, and language models.

// TextShape is the input a text model is built for: token ids below Vocab
// (id 0 being padding, as package data/text numbers them) and the number of
// classes.
type TextShape struct {
	Vocab   int // embedding rows, padding and unknown included
	Classes int
}

// RNNClassifierConfig sizes an RNNClassifier. Zero values take the
// defaults.
type RNNClassifierConfig struct {
	GRU           bool    // GRU cells instead of LSTM cells
	EmbedDim      int     // default 64
	Hidden        int     // hidden state per direction; default 128
	Layers        int     // stacked recurrent layers; default 1
	Bidirectional bool    // read each text both ways
	Dropout       float32 // before the output layer, and between recurrent layers
}

// RNNClassifier classifies token sequences:
//
//	Embedding(vocab, dim, padding_idx=0) -> LSTM or GRU (batch_first) ->
//	final hidden state of the last layer (forward and backward directions
//	concatenated) -> Dropout -> Linear(classes)
//
// Its parameters are named as the PyTorch module with attributes
// embedding, lstm (or gru), dropout and fc: "embedding.weight",
// "lstm.weight_ih_l0", ..., "lstm.bias_hh_l0_reverse", "fc.weight",
// "fc.bias". The recurrent layer ignores each text's padding as
// pack_padded_sequence(..., enforce_sorted=False) makes PyTorch do, so a
// text's logits do not depend on the batch it is in or on its padding.
//
// Forward reads each row's length from its padding (one past its last
// non-zero id; see package data/text), so it works unchanged with any
// trainer that feeds batches of padded rows; ForwardLengths takes the
// lengths explicitly. Neither is safe for concurrent use on one model.
//
// The dropout between recurrent layers (with Layers > 1) draws from a
// generator seeded from the initialisation generator, which a trainer that
// reseeds only nn.Dropout layers does not see.
type RNNClassifier struct {
	Shape     TextShape
	Config    RNNClassifierConfig
	Embedding *nn.Embedding
	RNN       *nn.Recurrent
	Dropout   *nn.Dropout
	FC        *nn.Linear
	Params    *nn.ParamSet

	lengths []int // Forward's buffer
}

var (
	_ Model        = (*RNNClassifier)(nil)
	_ nn.Container = (*RNNClassifier)(nil)
)

// NewRNNClassifier builds a classifier for s, initialised from rng as
// PyTorch initialises each layer, with its parameters packed.
func NewRNNClassifier(s TextShape, cfg RNNClassifierConfig, rng *rand.Rand) (*RNNClassifier, error) {
	if s.Vocab < 3 || s.Classes < 2 {
		return nil, fmt.Errorf("models: text classifier needs a vocabulary of at least 3 ids (padding, unknown and a token) and 2 classes, got %d and %d", s.Vocab, s.Classes)
	}
	if cfg.EmbedDim == 0 {
		cfg.EmbedDim = 64
	}
	if cfg.Hidden == 0 {
		cfg.Hidden = 128
	}
	if cfg.Layers == 0 {
		cfg.Layers = 1
	}
	if cfg.EmbedDim < 1 || cfg.Hidden < 1 || cfg.Layers < 1 || !(cfg.Dropout >= 0 && cfg.Dropout < 1) {
		return nil, fmt.Errorf("models: text classifier with embedding %d, hidden %d, %d layers and dropout %v; want sizes >= 1 and dropout in [0, 1)",
			cfg.EmbedDim, cfg.Hidden, cfg.Layers, cfg.Dropout)
	}
	m := &RNNClassifier{Shape: s, Config: cfg}
	m.Embedding = nn.NewEmbedding(s.Vocab, cfg.EmbedDim, 0, rng)
	rc := nn.RecurrentConfig{InputSize: cfg.EmbedDim, HiddenSize: cfg.Hidden, NumLayers: cfg.Layers,
		BatchFirst: true, Bidirectional: cfg.Bidirectional}
	if cfg.Layers > 1 && cfg.Dropout > 0 {
		rc.Dropout, rc.DropoutRng = cfg.Dropout, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	}
	if cfg.GRU {
		m.RNN = &nn.NewGRU(rc, rng).Recurrent
	} else {
		m.RNN = &nn.NewLSTM(rc, rng).Recurrent
	}
	m.Dropout = nn.NewDropout(cfg.Dropout, rng)
	m.FC = nn.NewLinear(m.dirs()*cfg.Hidden, s.Classes, true, rng)
	m.Params = nn.Pack(m)
	return m, nil
}

func (m *RNNClassifier) dirs() int {
	if m.Config.Bidirectional {
		return 2
	}
	return 1
}

// ParamSet returns the packed parameters.
func (m *RNNClassifier) ParamSet() *nn.ParamSet { return m.Params }

// Children names the layers as the PyTorch module's attributes.
func (m *RNNClassifier) Children() []nn.Child {
	rnn := "lstm"
	if m.Config.GRU {
		rnn = "gru"
	}
	return []nn.Child{{Name: "embedding", Module: m.Embedding}, {Name: rnn, Module: m.RNN},
		{Name: "dropout", Module: m.Dropout}, {Name: "fc", Module: m.FC}}
}

// Forward maps token ids x (N, T), float32 values that are exact integers
// in [0, Vocab) with trailing zeros as padding, to logits (N, classes).
// Each row's length is one past its last non-zero id (at least 1), so a
// row without padding is read in full.
func (m *RNNClassifier) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	xs := x.Shape()
	if len(xs) != 2 || xs[0] < 1 || xs[1] < 1 {
		panic(fmt.Sprintf("models: text classifier input %v, want (N, T) token ids", xs))
	}
	n, T := xs[0], xs[1]
	if cap(m.lengths) < n {
		m.lengths = make([]int, n)
	}
	lengths := m.lengths[:n]
	full := true
	xd := x.Data()
	for b := range n {
		l := T
		for l > 1 && xd[b*T+l-1] == 0 {
			l--
		}
		lengths[b] = l
		full = full && l == T
	}
	if full {
		lengths = nil // the recurrence's faster path
	}
	return m.ForwardLengths(g, x, lengths)
}

// ForwardLengths is Forward with each row's number of valid steps given:
// lengths[b] in [1, T] for row b, or nil for T everywhere. Steps past a
// row's length are ignored whatever ids they hold.
func (m *RNNClassifier) ForwardLengths(g *autograd.Tape, x *autograd.Var, lengths []int) *autograd.Var {
	e := m.Embedding.Forward(g, x) // (N, T, dim)
	_, hn, _ := m.RNN.Run(g, e, nn.RecurrentState{Lengths: lengths})
	// hn is (layers*D, N, H); the last layer's D states become (N, D*H),
	// forward direction first, as torch.cat([h_n[-2], h_n[-1]], 1).
	L, D, H, n := m.Config.Layers, m.dirs(), m.Config.Hidden, x.Shape()[0]
	h := g.Narrow(hn, 0, (L-1)*D, D)
	if D == 2 {
		h = g.Permute(h, 1, 0, 2)
	}
	h = g.Reshape(h, n, D*H)
	return m.FC.Forward(g, m.Dropout.Forward(g, h))
}

// textBuilders maps the zoo's text model names to constructors. They are
// apart from builders because they are sized by a vocabulary, not an image.
var textBuilders = map[string]func(s TextShape, rng *rand.Rand) (Model, error){
	"lstm-classifier": func(s TextShape, rng *rand.Rand) (Model, error) {
		return NewRNNClassifier(s, RNNClassifierConfig{Bidirectional: true, Dropout: 0.3}, rng)
	},
	"gru-classifier": func(s TextShape, rng *rand.Rand) (Model, error) {
		return NewRNNClassifier(s, RNNClassifierConfig{GRU: true, Bidirectional: true, Dropout: 0.3}, rng)
	},
}

// TextNames returns the zoo's text model names, sorted.
func TextNames() []string {
	var out []string
	for n := range textBuilders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// IsText reports whether name is a text model of the zoo, built with
// NewText rather than New.
func IsText(name string) bool {
	_, ok := textBuilders[name]
	return ok
}

// NewText builds the zoo text model called name for inputs of shape s.
// The models take batches of token id rows (N, T) padded with zeros and
// return logits (N, classes).
func NewText(name string, s TextShape, rng *rand.Rand) (Model, error) {
	b, ok := textBuilders[name]
	if !ok {
		return nil, fmt.Errorf("models: unknown text model %q (known: %v)", name, TextNames())
	}
	return b(s, rng)
}
