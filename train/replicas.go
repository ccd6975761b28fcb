package train

// This file holds what the step, the loop and evaluation need of
// data-parallel training, as two small interfaces that package dist
// implements: combining gradients between backward and the optimizer
// step, and summing a step's or an evaluation's figures over the ranks. It
// leaves out the communication itself.

import (
	"errors"
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
)

// GradSync combines the gradients of data-parallel replicas: Begin before
// backward (it may hook the tape to start while backward runs), End after
// it, when every rank must hold the global batch's mean gradient.
type GradSync interface {
	Begin(g *autograd.Tape, local, global int)
	End() error
}

// Replicas sums figures over the ranks of a data-parallel run, so that
// every rank's loop sees the global batch's loss and accuracy and the
// whole validation set's.
type Replicas interface {
	// Sum replaces vals, on every rank, with their sums over the ranks. It
	// also reports a failure of the step's gradient combination.
	Sum(vals []float64) error
}

// ReplicaError is a failure to communicate with the other ranks: the
// step it happened in did not update the model, and nothing should be
// saved after it, since the ranks may no longer agree.
type ReplicaError struct{ Err error }

func (e *ReplicaError) Error() string { return fmt.Sprintf("train: data-parallel ranks: %v", e.Err) }
func (e *ReplicaError) Unwrap() error { return e.Err }

// IsReplicaError reports whether err comes from the ranks' communication.
func IsReplicaError(err error) bool {
	var re *ReplicaError
	return errors.As(err, &re)
}

// UpdateShard is Update for one rank's shard b of a global batch: with a
// sync, the gradients are combined over the ranks between backward and
// clipping, so clipping and the step see the global gradient. When the
// combination fails the optimizer does not step; the sync reports the
// error (Replicas.Sum).
func UpdateShard(g *autograd.Tape, params *nn.ParamSet, loss *autograd.Var, clip float64, opt optim.Optimizer, sync GradSync, b *data.Batch) {
	if sync == nil {
		Update(g, params, loss, clip, opt)
		return
	}
	params.ZeroGrad()
	local := b.Shape[0]
	global := max(b.Global, local)
	sync.Begin(g, local, global)
	g.Backward(loss)
	if sync.End() != nil {
		return
	}
	if clip > 0 {
		optim.ClipGradNorm(params.Grad, clip, 2)
	}
	opt.Step()
}
