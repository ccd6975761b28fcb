package nn

import (
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// Losses, composed from autograd primitives. This file leaves out the
// losses kiln's workflow does not use yet (CTC, KL divergence, margin
// losses).

// Reduction re-exports autograd's reduction modes for loss users.
type Reduction = autograd.Reduction

// The reductions, as PyTorch's reduction='mean' | 'sum' | 'none'.
const (
	Mean = autograd.ReduceMean
	Sum  = autograd.ReduceSum
	None = autograd.ReduceNone
)

// NoIgnore is PyTorch's default ignore_index, -100.
const NoIgnore = -100

// CrossEntropyLoss is nn.CrossEntropyLoss on logits: log-softmax over the
// class axis (axis 1, or 0 for a single unbatched sample) followed by the
// negative log-likelihood, with optional class weights, label smoothing and
// an ignored target index. Make it with NewCrossEntropyLoss, which sets
// PyTorch's defaults; note that the zero value would ignore class 0.
type CrossEntropyLoss struct {
	Weight         []float32 // per-class weights, or nil
	IgnoreIndex    int
	LabelSmoothing float64
	Reduction      Reduction
}

// NewCrossEntropyLoss returns a CrossEntropyLoss with PyTorch's defaults:
// mean reduction, no weights, no smoothing, ignore_index -100.
func NewCrossEntropyLoss() *CrossEntropyLoss {
	return &CrossEntropyLoss{IgnoreIndex: NoIgnore}
}

// Forward returns the loss of logits x, shaped (N, C), (N, C, d1, ...) or
// (C), against class indices target, shaped like x without its class axis.
func (l *CrossEntropyLoss) Forward(g *autograd.Tape, x *autograd.Var, target []int) *autograd.Var {
	unbatched := x.Value().NDim() == 1
	if unbatched {
		x = g.Reshape(x, 1, -1)
	}
	c := x.Value().Dim(1)
	logp := g.LogSoftmax(x, 1)
	loss := g.NLL(logp, target, autograd.NLLOptions{Weight: l.Weight, IgnoreIndex: l.IgnoreIndex, Reduction: l.Reduction})
	if l.LabelSmoothing > 0 {
		eps := float32(l.LabelSmoothing)
		smooth := l.smoothing(g, logp, target)
		loss = g.Add(g.MulScalar(loss, 1-eps), g.MulScalar(smooth, eps/float32(c)))
	}
	if unbatched && l.Reduction == None {
		loss = g.Reshape(loss)
	}
	return loss
}

// smoothing is the uniform-target term of label smoothing: the (weighted)
// negative sum of log-probabilities over classes, zero where the target is
// ignored, reduced as PyTorch 1.13 reduces it: the mean divides by the
// total weight, or count, of the targets that are not ignored.
func (l *CrossEntropyLoss) smoothing(g *autograd.Tape, logp *autograd.Var, target []int) *autograd.Var {
	shape := logp.Shape()
	c := shape[1]
	terms := logp
	if l.Weight != nil {
		terms = g.Mul(logp, g.Const(classRow(g, l.Weight, len(shape))))
	}
	s := g.Neg(g.Sum(terms, 1, false)) // (N, d1, ...)
	mask := g.Tensor(s.Shape()...)
	md := mask.Data()
	var wsum float64 // total weight (or count) of the targets not ignored
	for i, t := range target {
		if t == l.IgnoreIndex {
			md[i] = 0
			continue
		}
		md[i] = 1
		if l.Weight == nil {
			wsum++
		} else {
			if t < 0 || t >= c {
				panic(fmt.Sprintf("nn: cross entropy: target %d out of range [0, %d)", t, c))
			}
			wsum += float64(l.Weight[t])
		}
	}
	s = g.Mul(s, g.Const(mask))
	switch l.Reduction {
	case Sum:
		return g.SumAll(s)
	case None:
		return s
	}
	return g.MulScalar(g.SumAll(s), float32(1/wsum))
}

// classRow returns weight shaped (1, C, 1, ...) to broadcast over an
// nd-dimensional input.
func classRow(g *autograd.Tape, weight []float32, nd int) *tensor.Tensor {
	shape := [tensor.MaxDims]int{}
	for i := range nd {
		shape[i] = 1
	}
	shape[1] = len(weight)
	t := g.Tensor(shape[:nd]...)
	copy(t.Data(), weight)
	return t
}

// ForwardProbs returns the loss of logits x against class probabilities
// target of x's shape (PyTorch's probability-target form): label smoothing
// mixes target with the uniform distribution; mean divides by the number of
// samples, whatever the weights.
func (l *CrossEntropyLoss) ForwardProbs(g *autograd.Tape, x *autograd.Var, target *tensor.Tensor) *autograd.Var {
	if !tensor.SameShape(x.Value(), target) {
		panic(fmt.Sprintf("nn: cross entropy: probability target %v for input %v", target.Shape(), x.Shape()))
	}
	unbatched := x.Value().NDim() == 1
	if unbatched {
		x = g.Reshape(x, 1, -1)
		target = target.View(1, -1)
	}
	c := x.Value().Dim(1)
	logp := g.LogSoftmax(x, 1)
	t := target
	if l.LabelSmoothing > 0 {
		eps := float32(l.LabelSmoothing)
		t = tensor.AddScalar(g.Tensor(target.Shape()...), tensor.MulScalar(g.Tensor(target.Shape()...), target, 1-eps), eps/float32(c))
	}
	terms := g.Mul(logp, g.Const(t))
	if l.Weight != nil {
		terms = g.Mul(terms, g.Const(classRow(g, l.Weight, x.Value().NDim())))
	}
	s := g.Neg(g.Sum(terms, 1, false))
	switch l.Reduction {
	case Sum:
		return g.SumAll(s)
	case None:
		if unbatched {
			return g.Reshape(s)
		}
		return s
	}
	return g.MeanAll(s)
}

// NLLLoss is nn.NLLLoss on log-probabilities. Make it with NewNLLLoss.
type NLLLoss struct {
	Weight      []float32
	IgnoreIndex int
	Reduction   Reduction
}

// NewNLLLoss returns an NLLLoss with PyTorch's defaults.
func NewNLLLoss() *NLLLoss { return &NLLLoss{IgnoreIndex: NoIgnore} }

// Forward returns the loss of log-probabilities x, shaped (N, C, ...) or
// (C), against class indices target.
func (l *NLLLoss) Forward(g *autograd.Tape, x *autograd.Var, target []int) *autograd.Var {
	unbatched := x.Value().NDim() == 1
	if unbatched {
		x = g.Reshape(x, 1, -1)
	}
	loss := g.NLL(x, target, autograd.NLLOptions{Weight: l.Weight, IgnoreIndex: l.IgnoreIndex, Reduction: l.Reduction})
	if unbatched && l.Reduction == None {
		loss = g.Reshape(loss)
	}
	return loss
}

// MSELoss returns the mean squared error between x and target, reduced by r:
// nn.MSELoss.
func MSELoss(g *autograd.Tape, x *autograd.Var, target *tensor.Tensor, r Reduction) *autograd.Var {
	if !tensor.SameShape(x.Value(), target) {
		panic(fmt.Sprintf("nn: mse: target %v for input %v", target.Shape(), x.Shape()))
	}
	d := g.Sub(x, g.Const(target))
	return reduce(g, g.Mul(d, d), r)
}

// BCEWithLogitsLoss returns nn.BCEWithLogitsLoss of logits x against targets
// in [0, 1] of the same shape. weight (broadcast to x) and posWeight (per
// class, along the last axis) may be nil.
func BCEWithLogitsLoss(g *autograd.Tape, x *autograd.Var, target, weight, posWeight *tensor.Tensor, r Reduction) *autograd.Var {
	return reduce(g, g.BCEWithLogits(x, target, weight, posWeight), r)
}

func reduce(g *autograd.Tape, v *autograd.Var, r Reduction) *autograd.Var {
	switch r {
	case Sum:
		return g.SumAll(v)
	case None:
		return v
	}
	return g.MeanAll(v)
}
