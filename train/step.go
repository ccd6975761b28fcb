package train

// This file holds the classifier's training step: forward, cross-entropy,
// backward, clipping and the optimizer's update on one reused tape. It
// leaves out the loop (loop.go) and the other tasks' steps (package task).

import (
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
)

// Classifier is a model trained with cross-entropy on class labels.
type Classifier struct {
	Model    nn.Module
	Params   *nn.ParamSet
	Loss     *nn.CrossEntropyLoss
	Opt      optim.Optimizer
	ClipNorm float64  // clip gradients to this global L2 norm; 0 disables
	Sync     GradSync // combines gradients over data-parallel ranks; nil for one process

	tape  *autograd.Tape
	x     tensor.Tensor
	preds []int
}

// NewClassifier returns a Classifier; loss may be nil for the default
// cross-entropy.
func NewClassifier(model nn.Module, params *nn.ParamSet, loss *nn.CrossEntropyLoss, opt optim.Optimizer) *Classifier {
	if loss == nil {
		loss = nn.NewCrossEntropyLoss()
	}
	return &Classifier{Model: model, Params: params, Loss: loss, Opt: opt, tape: autograd.NewTape()}
}

// SyncStats makes the model's batch normalisation use statistics summed
// by sum over data-parallel ranks (autograd.Tape.SetStatsSum); nil makes
// them local again.
func (c *Classifier) SyncStats(sum func([]float64)) { c.tape.SetStatsSum(sum) }

// forward runs the model on a batch on the reused tape and returns the logits.
func (c *Classifier) forward(b *data.Batch) *autograd.Var {
	c.tape.Reset()
	c.x.Init(b.X, b.Shape...)
	return c.Model.Forward(c.tape, c.tape.Const(&c.x))
}

// correct counts the rows of logits whose arg-max is the label.
func (c *Classifier) correct(logits *autograd.Var, y []int) int {
	n := len(y)
	if cap(c.preds) < n {
		c.preds = make([]int, n)
	}
	c.preds = c.preds[:n]
	tensor.ArgMaxInto(c.preds, logits.Value(), 1)
	k := 0
	for i, p := range c.preds {
		if p == y[i] {
			k++
		}
	}
	return k
}

// TrainStep trains on one batch: forward, loss, backward, optional gradient
// clipping and the optimizer's update. It returns the batch's mean loss and
// the number of examples the model classified correctly before the update.
// The model must be in training mode (nn.SetTraining).
func (c *Classifier) TrainStep(b *data.Batch) (loss float32, correct int) {
	c.tape.SetGradEnabled(true)
	logits := c.forward(b)
	l := c.Loss.Forward(c.tape, logits, b.Y)
	UpdateShard(c.tape, c.Params, l, c.ClipNorm, c.Opt, c.Sync, b)
	return l.Item(), c.correct(logits, b.Y)
}

// Update is the end of every learner's training step: it back-propagates
// loss into params' zeroed gradients, clips them to the global L2 norm clip
// (0: no clipping) and steps opt.
func Update(g *autograd.Tape, params *nn.ParamSet, loss *autograd.Var, clip float64, opt optim.Optimizer) {
	params.ZeroGrad()
	g.Backward(loss)
	if clip > 0 {
		optim.ClipGradNorm(params.Grad, clip, 2)
	}
	opt.Step()
}

// Logits returns the model's logits for a batch without recording
// gradients; they stay valid until the classifier's next call. The model
// must be in evaluation mode.
func (c *Classifier) Logits(b *data.Batch) []float32 {
	prev := c.tape.SetGradEnabled(false)
	defer c.tape.SetGradEnabled(prev)
	return c.forward(b).Value().Values()
}

// EvalBatch computes a batch's summed loss and correct count without
// recording gradients, and the predicted class of each example in preds
// (which must have len(b.Y) entries, or be nil). The model must be in
// evaluation mode.
func (c *Classifier) EvalBatch(b *data.Batch, preds []int) (lossSum float64, correct int) {
	prev := c.tape.SetGradEnabled(false)
	defer c.tape.SetGradEnabled(prev)
	logits := c.forward(b)
	l := c.Loss.Forward(c.tape, logits, b.Y)
	k := c.correct(logits, b.Y)
	if preds != nil {
		if len(preds) != len(b.Y) {
			panic(fmt.Sprintf("train: %d predictions for a batch of %d", len(preds), len(b.Y)))
		}
		copy(preds, c.preds)
	}
	return float64(l.Item()) * float64(len(b.Y)), k
}
