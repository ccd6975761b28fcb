package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// The embedding table. The lookup is the autograd primitive
// Tape.Embedding; this file holds the table and its initialisation. It
// leaves out max_norm, scale_grad_by_freq, sparse gradients and
// EmbeddingBag.

// NoPadding, as an Embedding's padding index, leaves every row trainable
// (PyTorch's padding_idx=None).
const NoPadding = autograd.NoPadding

// Embedding is PyTorch's nn.Embedding: a table of NumEmbeddings vectors of
// EmbeddingDim values, looked up by index. Its state_dict entry is
// "weight" (NumEmbeddings, EmbeddingDim).
type Embedding struct {
	NumEmbeddings, EmbeddingDim int
	// PaddingIdx is the row that starts at zero and is never trained (its
	// gradient stays zero), or NoPadding.
	PaddingIdx int
	Weight     *autograd.Var
}

var (
	_ Module      = (*Embedding)(nil)
	_ ParamHolder = (*Embedding)(nil)
)

// NewEmbedding returns an Embedding with weights drawn from N(0, 1) by rng
// and the padding row, if any, zeroed, as PyTorch initialises it.
// paddingIdx is NoPadding or a row in [0, num); PyTorch's negative
// padding_idx p, counting from the end, is num+p here.
func NewEmbedding(num, dim, paddingIdx int, rng *rand.Rand) *Embedding {
	if num <= 0 || dim <= 0 {
		panic(fmt.Sprintf("nn: embedding with num_embeddings %d, embedding_dim %d", num, dim))
	}
	if paddingIdx != NoPadding && (paddingIdx < 0 || paddingIdx >= num) {
		panic(fmt.Sprintf("nn: padding_idx %d must be within num_embeddings %d", paddingIdx, num))
	}
	pad := paddingIdx
	e := &Embedding{NumEmbeddings: num, EmbeddingDim: dim, PaddingIdx: pad}
	w := tensor.New(num, dim).Normal(rng, 0, 1)
	if pad != NoPadding {
		clear(w.Data()[pad*dim : (pad+1)*dim])
	}
	e.Weight = autograd.NewVar(w, true)
	return e
}

// Forward looks up the indices held in x, float32 values that are exact
// integers of any shape, and returns x.shape + (EmbeddingDim). x gets no
// gradient.
func (e *Embedding) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.EmbeddingOf(e.Weight, x, e.PaddingIdx)
}

// Lookup returns the rows of idx in the given shape (nil for a flat list)
// plus (EmbeddingDim).
func (e *Embedding) Lookup(g *autograd.Tape, idx []int, shape ...int) *autograd.Var {
	return g.Embedding(e.Weight, idx, e.PaddingIdx, shape...)
}

// OwnParams returns "weight".
func (e *Embedding) OwnParams() []Param { return []Param{{Name: "weight", Var: e.Weight}} }
