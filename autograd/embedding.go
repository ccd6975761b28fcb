package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/tensor"
)

// Embedding lookup: a gather of table rows whose backward scatter-adds into
// the table's gradient. The gradient is dense, a full table the size of the
// weight. This file leaves out sparse gradients, max_norm renormalisation
// and scale_grad_by_freq.

// NoPadding is the paddingIdx that leaves every row of an embedding table
// trainable.
const NoPadding = -1

// Embedding returns the rows of the table w (num, dim) picked by idx,
// PyTorch's F.embedding(idx, w, padding_idx). The result has shape
// shape + (dim); an empty shape means (len(idx)), and a given one must
// hold len(idx) elements. Gradients of repeated indices add up; the row
// paddingIdx gets none (NoPadding for none). An index outside [0, num)
// panics, as PyTorch raises.
func (g *Tape) Embedding(w *Var, idx []int, paddingIdx int, shape ...int) *Var {
	if len(shape) == 0 {
		shape = []int{len(idx)}
	}
	if prod(shape) != len(idx) {
		panic(fmt.Sprintf("autograd: embedding of %d indices in shape %v", len(idx), shape))
	}
	y := g.embedding(w, paddingIdx, shape)
	num, dim := w.value.Dim(0), w.value.Dim(1)
	wd, yd := w.Data(), y.Data()
	for i, k := range idx {
		if k < 0 || k >= num {
			panic(fmt.Sprintf("autograd: embedding index %d out of range [0, %d)", k, num))
		}
		copy(yd[i*dim:(i+1)*dim], wd[k*dim:(k+1)*dim])
		if y.requiresGrad {
			y.idx[i] = int32(k)
		}
	}
	return y
}

// EmbeddingOf is Embedding with the indices held in x as float32 values
// that are exact integers, the way a batch of tokens arrives from a data
// loader; the result has shape x.shape + (dim). x is only read: indices
// have no gradient.
func (g *Tape) EmbeddingOf(w, x *Var, paddingIdx int) *Var {
	y := g.embedding(w, paddingIdx, x.Shape())
	num, dim := w.value.Dim(0), w.value.Dim(1)
	wd, yd := w.Data(), y.Data()
	for i, f := range x.Data() {
		k := int(f)
		if float32(k) != f || k < 0 || k >= num {
			panic(fmt.Sprintf("autograd: embedding index %v is not an integer in [0, %d)", f, num))
		}
		copy(yd[i*dim:(i+1)*dim], wd[k*dim:(k+1)*dim])
		if y.requiresGrad {
			y.idx[i] = int32(k)
		}
	}
	return y
}

// embedding checks w and returns the output node, with a tape-owned index
// buffer when it records.
func (g *Tape) embedding(w *Var, paddingIdx int, shape []int) *Var {
	if w.value.NDim() != 2 {
		panic(fmt.Sprintf("autograd: embedding table of shape %v, want (num, dim)", w.Shape()))
	}
	if paddingIdx != NoPadding && (paddingIdx < 0 || paddingIdx >= w.value.Dim(0)) {
		panic(fmt.Sprintf("autograd: embedding padding index %d for %d rows", paddingIdx, w.value.Dim(0)))
	}
	if len(shape) >= tensor.MaxDims {
		panic(fmt.Sprintf("autograd: embedding of indices with %d axes", len(shape)))
	}
	var out [tensor.MaxDims]int
	nd := copy(out[:], shape)
	out[nd] = w.value.Dim(1)
	y := g.newVar(opEmbedding, out[:nd+1], w)
	if y.requiresGrad {
		y.idx = g.ints(prod(shape))
		y.ints[0] = paddingIdx
	}
	return y
}

func embeddingBackward(g *Tape, n *Var) {
	w := n.in[0]
	if !w.requiresGrad {
		return
	}
	dim, pad := w.value.Dim(1), n.ints[0]
	gw, dy := g.gradOf(w).Data(), n.grad.Data()
	for i, k := range n.idx {
		if int(k) == pad {
			continue
		}
		addScaled(gw[int(k)*dim:int(k+1)*dim], dy[i*dim:(i+1)*dim], 1)
	}
}
