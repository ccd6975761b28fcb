package train

// This file holds Learner, what the training loop and evaluation need of
// a model being trained. It leaves out the tasks themselves: Classifier
// (step.go) here, the autoencoder's and language model's in package task.

import (
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
)

// Learner is a model with its loss and optimizer: one task's training step.
// Fit trains any Learner and Evaluate scores one; a task without classes
// (an autoencoder) reports zero correct examples.
type Learner interface {
	// Module returns the model, for switching it between training and
	// evaluation mode.
	Module() nn.Module
	// Optimizer returns the optimizer, whose learning rate the loop reads.
	Optimizer() optim.Optimizer
	// TrainStep trains on one batch and returns its mean loss and how many
	// examples the model got right before the update.
	TrainStep(b *data.Batch) (loss float32, correct int)
	// EvalBatch returns a batch's summed loss and correct count without
	// recording gradients, and each example's predicted class in preds
	// (len(b.Y) entries, or nil).
	EvalBatch(b *data.Batch, preds []int) (lossSum float64, correct int)
}

// Stager is a Learner that can copy the next batch to its device while a
// step runs (a GPU's second stream). The loop stages each batch and trains
// on it with a function that fetches and stages the next one, which the
// learner calls once the step is queued and before it waits for the loss.
type Stager interface {
	Learner
	// Stage starts copying b to the device for the next TrainStaged; b
	// may be reused once Stage returns. Staging again before TrainStaged
	// replaces the batch. What is wrong with b is reported by the
	// TrainStaged that takes it, through the learner's Err.
	Stage(b *data.Batch)
	// TrainStaged is TrainStep on the staged batch. It calls during (when
	// not nil) exactly once, after queuing the step and before waiting for
	// its result, even when the step fails.
	TrainStaged(during func()) (loss float32, correct int)
}

// Evaluator is what evaluation needs of a model: the mode switch and a
// batch's loss, correct count and predictions (Learner's EvalBatch). Every
// Learner is one; so is an inference-only model on a device.
type Evaluator interface {
	Module() nn.Module
	EvalBatch(b *data.Batch, preds []int) (lossSum float64, correct int)
}

var (
	_ Learner   = (*Classifier)(nil)
	_ Evaluator = Learner(nil)
)

// Module returns the classifier's model.
func (c *Classifier) Module() nn.Module { return c.Model }

// Optimizer returns the classifier's optimizer.
func (c *Classifier) Optimizer() optim.Optimizer { return c.Opt }
