package nn

import (
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// Batch normalisation layers. The arithmetic and its gradient are one
// autograd primitive (Tape.BatchNorm); this file holds the parameters, the
// running statistics and the train/eval switch. It leaves out BatchNorm3d,
// SyncBatchNorm and the lazy variants.

// BatchNormOptions are PyTorch's BatchNorm constructor arguments beyond
// num_features. The zero value means PyTorch's defaults: eps 1e-5,
// momentum 0.1, affine, tracking running statistics. (For an eps or
// momentum of exactly 0, set the BatchNorm's field after construction.)
type BatchNormOptions struct {
	Eps      float32 // added to the variance; 0 means 1e-5
	Momentum float32 // weight of each new batch in the running statistics; 0 means 0.1

	// CumulativeAverage is PyTorch's momentum=None: the running statistics
	// are the plain average over every batch seen, and Momentum is ignored.
	CumulativeAverage bool

	NoAffine       bool // affine=False: no weight and bias
	NoRunningStats bool // track_running_stats=False: always normalise with batch statistics
}

// BatchNorm is PyTorch's BatchNorm1d or BatchNorm2d. Its state_dict entries
// are "weight" and "bias" (C) when affine, and the buffers "running_mean",
// "running_var" (C) and "num_batches_tracked" (a scalar, an int64 in
// PyTorch) when tracking running statistics.
//
// In training mode (the default, as in PyTorch) it normalises with the
// batch's mean and biased variance over every axis but the channel axis 1,
// and moves the running statistics toward the batch's mean and unbiased
// variance. In evaluation mode it normalises with the running statistics.
type BatchNorm struct {
	NumFeatures       int
	Eps               float32
	Momentum          float32
	CumulativeAverage bool

	Weight, Bias *autograd.Var // (C), initialised to 1 and 0; nil when not affine

	// Buffers, nil when not tracking running statistics.
	// NumBatchesTracked counts training batches in a float32, exact up to
	// 2^24 batches.
	RunningMean, RunningVar, NumBatchesTracked *autograd.Var

	training bool
	name     string // "BatchNorm1d" or "BatchNorm2d", for messages
	ranks    [2]int // accepted input ranks
}

var (
	_ Module      = (*BatchNorm)(nil)
	_ ParamHolder = (*BatchNorm)(nil)
	_ Moded       = (*BatchNorm)(nil)
)

// NewBatchNorm1d returns PyTorch's BatchNorm1d(numFeatures) for inputs (N, C)
// or (N, C, L), with at most one BatchNormOptions (none means defaults).
func NewBatchNorm1d(numFeatures int, opts ...BatchNormOptions) *BatchNorm {
	return newBatchNorm("BatchNorm1d", [2]int{2, 3}, numFeatures, opts)
}

// NewBatchNorm2d returns PyTorch's BatchNorm2d(numFeatures) for inputs
// (N, C, H, W), with at most one BatchNormOptions (none means defaults).
func NewBatchNorm2d(numFeatures int, opts ...BatchNormOptions) *BatchNorm {
	return newBatchNorm("BatchNorm2d", [2]int{4, 4}, numFeatures, opts)
}

func newBatchNorm(name string, ranks [2]int, c int, opts []BatchNormOptions) *BatchNorm {
	if len(opts) > 1 {
		panic(fmt.Sprintf("nn: %s: %d option structs, want at most one", name, len(opts)))
	}
	if c <= 0 {
		panic(fmt.Sprintf("nn: %s with %d features", name, c))
	}
	var o BatchNormOptions
	if len(opts) == 1 {
		o = opts[0]
	}
	b := &BatchNorm{
		NumFeatures:       c,
		Eps:               o.Eps,
		Momentum:          o.Momentum,
		CumulativeAverage: o.CumulativeAverage,
		training:          true,
		name:              name,
		ranks:             ranks,
	}
	if b.Eps == 0 {
		b.Eps = 1e-5
	}
	if b.Momentum == 0 {
		b.Momentum = 0.1
	}
	if !o.NoAffine {
		b.Weight = autograd.NewVar(Ones(tensor.New(c)), true)
		b.Bias = autograd.NewVar(tensor.New(c), true)
	}
	if !o.NoRunningStats {
		b.RunningMean = autograd.NewVar(tensor.New(c), false)
		b.RunningVar = autograd.NewVar(Ones(tensor.New(c)), false)
		b.NumBatchesTracked = autograd.NewVar(tensor.New(), false)
	}
	return b
}

// SetTraining switches between batch statistics (on) and running statistics.
func (b *BatchNorm) SetTraining(on bool) { b.training = on }

// Training reports whether b is in training mode.
func (b *BatchNorm) Training() bool { return b.training }

// Forward normalises x. In training mode with running statistics it also
// counts the batch and updates the statistics, even with gradients
// disabled, as PyTorch does.
func (b *BatchNorm) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	v := x.Value()
	if nd := v.NDim(); nd < b.ranks[0] || nd > b.ranks[1] {
		if b.ranks[0] == b.ranks[1] {
			panic(fmt.Sprintf("nn: %s: expected %dD input (got %dD input)", b.name, b.ranks[0], nd))
		}
		panic(fmt.Sprintf("nn: %s: expected %dD or %dD input (got %dD input)", b.name, b.ranks[0], b.ranks[1], nd))
	}
	if v.Dim(1) != b.NumFeatures {
		panic(fmt.Sprintf("nn: %s(%d): input has %d channels", b.name, b.NumFeatures, v.Dim(1)))
	}
	momentum := b.Momentum
	var rm, rv *tensor.Tensor
	if b.RunningMean != nil {
		rm, rv = b.RunningMean.Value(), b.RunningVar.Value()
		if b.training {
			nbt := b.NumBatchesTracked.Data()
			nbt[0]++
			if b.CumulativeAverage {
				momentum = 1 / nbt[0]
			}
		}
	}
	// Without running statistics there is nothing else to normalise with,
	// so evaluation uses the batch's too.
	useBatch := b.training || rm == nil
	return g.BatchNorm(x, rm, rv, b.Weight, b.Bias, useBatch, momentum, b.Eps)
}

// OwnParams returns the parameters and buffers in PyTorch's state_dict
// order.
func (b *BatchNorm) OwnParams() []Param {
	var ps []Param
	if b.Weight != nil {
		ps = append(ps, Param{Name: "weight", Var: b.Weight}, Param{Name: "bias", Var: b.Bias})
	}
	if b.RunningMean != nil {
		ps = append(ps,
			Param{Name: "running_mean", Var: b.RunningMean, Buffer: true},
			Param{Name: "running_var", Var: b.RunningVar, Buffer: true},
			Param{Name: "num_batches_tracked", Var: b.NumBatchesTracked, Buffer: true, Int: true})
	}
	return ps
}
