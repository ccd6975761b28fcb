package privacy

// This file holds DPClassifier, DP-SGD's training step for a classifier:
// each example's gradient clipped and summed, then noised and averaged
// (dpsgd.go) before the optimizer's step. The per-example gradients come
// from one batched backward pass when every layer with parameters is a
// Linear or Conv2d (vectorised.go), and otherwise from a forward and
// backward pass per example (the loop here, correct for every layer).

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
	"github.com/kiln-ml/kiln/train"
)

// DPConfig holds DP-SGD's settings.
type DPConfig struct {
	MaxGradNorm     float64 // C: each example's gradient is clipped to this L2 norm
	NoiseMultiplier float64 // sigma: the noise's standard deviation is sigma*C
	SampleRate      float64 // q: the Poisson sampling rate of the batches, for the accountant
	ExpectedBatch   int     // q times the dataset size: the noised sum is divided by it
}

// DPClassifier is a classifier trained with DP-SGD; it is a train.Learner.
// Its batches must be Poisson-sampled (PoissonBatch) for the accountant's
// epsilon to hold.
type DPClassifier struct {
	Cfg        DPConfig
	Accountant Accountant // one step recorded per TrainStep

	base    *train.Classifier // the model, loss and optimizer; evaluation
	vec     *vectorised       // nil: the per-example loop
	loopWhy error             // why the loop is used
	rng     *rand.Rand
	tape    *autograd.Tape
	x       tensor.Tensor
	sum     []float32
	logits  []float32
}

var _ train.Learner = (*DPClassifier)(nil)

// NewDPClassifier returns a DP-SGD classifier of model, whose parameters
// params packs, with cross-entropy loss (nil: the default) and opt over
// params' buffers. rng draws the noise. Models with batch normalisation
// are refused: its statistics mix the examples of a batch, so one
// example's gradient would depend on the others.
func NewDPClassifier(model nn.Module, params *nn.ParamSet, loss *nn.CrossEntropyLoss, opt optim.Optimizer, cfg DPConfig, rng *rand.Rand) (*DPClassifier, error) {
	switch {
	case !(cfg.MaxGradNorm > 0):
		return nil, fmt.Errorf("privacy: max grad norm %v: want > 0", cfg.MaxGradNorm)
	case !(cfg.NoiseMultiplier >= 0):
		return nil, fmt.Errorf("privacy: noise multiplier %v: want >= 0", cfg.NoiseMultiplier)
	case !(cfg.SampleRate > 0 && cfg.SampleRate <= 1):
		return nil, fmt.Errorf("privacy: sample rate %v: want 0 < q <= 1", cfg.SampleRate)
	case cfg.ExpectedBatch < 1:
		return nil, fmt.Errorf("privacy: expected batch size %d: want >= 1", cfg.ExpectedBatch)
	case rng == nil:
		panic("privacy: nil noise generator")
	}
	for _, p := range params.All {
		if layer, ok := strings.CutSuffix(p.Name, ".running_mean"); p.Buffer && (ok || p.Name == "running_mean") {
			return nil, fmt.Errorf("privacy: layer %s is batch normalisation, which mixes the examples of a batch; DP-SGD needs a model without it (group or layer norm)", layer)
		}
	}
	c := &DPClassifier{
		Cfg:  cfg,
		base: train.NewClassifier(model, params, loss, opt),
		rng:  rng,
		tape: autograd.NewTape(),
		sum:  make([]float32, params.Len()),
	}
	if c.loopWhy = Vectorisable(model, c.base.Loss); c.loopWhy == nil {
		c.vec = newVectorised(model, params, c.base.Loss)
	}
	return c, nil
}

// Vectorised reports whether the per-example gradients come from one
// batched backward pass, and otherwise why they come from a loop over the
// examples.
func (c *DPClassifier) Vectorised() (bool, error) { return c.vec != nil, c.loopWhy }

// Module returns the model.
func (c *DPClassifier) Module() nn.Module { return c.base.Model }

// Optimizer returns the optimizer.
func (c *DPClassifier) Optimizer() optim.Optimizer { return c.base.Opt }

// EvalBatch scores a batch without noise or clipping, as
// train.Classifier does.
func (c *DPClassifier) EvalBatch(b *data.Batch, preds []int) (float64, int) {
	return c.base.EvalBatch(b, preds)
}

// PrivateGrad leaves DP-SGD's gradient of batch b in the parameter set's
// gradient buffer: the sum of the per-example gradients, each clipped to
// MaxGradNorm, plus Gaussian noise of NoiseMultiplier*MaxGradNorm,
// divided by ExpectedBatch. It returns the batch's mean loss and how many
// examples the model got right. An empty batch gives noise alone.
func (c *DPClassifier) PrivateGrad(b *data.Batch) (loss float32, correct int) {
	ps := c.base.Params
	n := len(b.Y)
	if n > 0 && len(b.X)%n != 0 {
		panic(fmt.Sprintf("privacy: batch of %d values and %d labels", len(b.X), n))
	}
	if c.vec != nil && n > 0 {
		var err error
		if loss, correct, err = c.vec.clipped(b, c.sum, c.Cfg.MaxGradNorm); err == nil {
			Privatize(c.sum, c.Cfg.NoiseMultiplier, c.Cfg.MaxGradNorm, c.Cfg.ExpectedBatch, c.rng)
			copy(ps.Grad, c.sum)
			return loss, correct
		}
		c.vec, c.loopWhy = nil, err // this step and the next ones by the loop
	}
	return c.loopGrad(b)
}

// loopGrad is PrivateGrad by a forward and backward pass per example.
func (c *DPClassifier) loopGrad(b *data.Batch) (loss float32, correct int) {
	ps := c.base.Params
	n := len(b.Y)
	clear(c.sum)
	c.tape.SetGradEnabled(true)
	var lossSum float64
	for i := range n {
		size := len(b.X) / n
		c.tape.Reset()
		c.x.Init(b.X[i*size:(i+1)*size], append([]int{1}, b.Shape[1:]...)...)
		logits := c.base.Model.Forward(c.tape, c.tape.Const(&c.x))
		l := c.base.Loss.Forward(c.tape, logits, b.Y[i:i+1])
		ps.ZeroGrad()
		c.tape.Backward(l)
		AccumulateClipped(c.sum, ps.Grad, c.Cfg.MaxGradNorm)
		lossSum += float64(l.Item())
		c.logits = append(c.logits[:0], logits.Data()...)
		if argmax(c.logits) == b.Y[i] {
			correct++
		}
	}
	Privatize(c.sum, c.Cfg.NoiseMultiplier, c.Cfg.MaxGradNorm, c.Cfg.ExpectedBatch, c.rng)
	copy(ps.Grad, c.sum)
	if n == 0 {
		return 0, 0
	}
	return float32(lossSum / float64(n)), correct
}

// TrainStep is one DP-SGD step on batch b: PrivateGrad, the optimizer's
// update, and one step recorded by the accountant.
func (c *DPClassifier) TrainStep(b *data.Batch) (loss float32, correct int) {
	loss, correct = c.PrivateGrad(b)
	c.base.Opt.Step()
	c.Accountant.Step(c.Cfg.NoiseMultiplier, c.Cfg.SampleRate)
	return loss, correct
}

// argmax returns the index of the largest value, the first on ties.
func argmax(v []float32) int {
	k := 0
	for i, x := range v {
		if x > v[k] {
			k = i
		}
	}
	return k
}
