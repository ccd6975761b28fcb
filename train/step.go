// Package train holds kiln's training step and training loop, evaluation,
// classification metrics, and runs: Run trains in a run directory with
// checkpoints, metrics, TensorBoard scalars and plots, Resume continues an
// interrupted run bit for bit, and LoadTrained serves eval and predict.
//
// Runs train one of three tasks: classification (Classifier) of images or
// texts; with Task "autoencode", reconstruction (Reconstructor), which adds
// reconstruction grids and exported features to its run directory; or,
// with Task "lm", a character-level language model (LanguageModel), which
// reports bits per character and samples text. Data are recognised by
// their files (DetectSource: image folders, IDX, CIFAR, text folders and
// lines files); text runs keep their vocabulary in encoder.json. Import
// makes a run directory from weights trained elsewhere.
//
// The step (Classifier.TrainStep) is separate from the loop (Fit): the loop
// owns epochs, schedules and callbacks, and the step owns one batch's
// forward pass, backward pass and update, reusing one tape so that a steady
// state step allocates nothing.
//
// A run resumes exactly because everything random is either saved or a
// pure function of the seed: the loader's order and augmentation depend
// only on (seed, epoch, position), the dropout generators are PCGs whose
// state the training state records, and the loop's Position carries the
// epoch's running sums.
package train

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
	ClipNorm float64 // clip gradients to this global L2 norm; 0 disables

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
	update(c.tape, c.Params, l, c.ClipNorm, c.Opt)
	return l.Item(), c.correct(logits, b.Y)
}

// update is the end of every learner's training step: it back-propagates
// loss into params' zeroed gradients, clips them to the global L2 norm clip
// (0: no clipping) and steps opt.
func update(g *autograd.Tape, params *nn.ParamSet, loss *autograd.Var, clip float64, opt optim.Optimizer) {
	params.ZeroGrad()
	g.Backward(loss)
	if clip > 0 {
		optim.ClipGradNorm(params.Grad, clip, 2)
	}
	opt.Step()
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
