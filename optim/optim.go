// Package optim holds kiln's optimizers and learning-rate schedules, with
// PyTorch's update rules (torch.optim, version 1.13) reproduced operation by
// operation in float32.
//
// Optimizers work on one flat parameter slice and one flat gradient slice
// (see nn.ParamSet), so a step is a single loop over contiguous memory and
// the same code serves data-parallel, federated and private training, which
// rewrite those slices between steps. Per-parameter groups with different
// hyperparameters are left out for now: every parameter shares one setting.
package optim

import "fmt"

// Optimizer updates parameters in place from their gradients.
type Optimizer interface {
	// Step applies one update from the current gradients.
	Step()
	// LR returns the current learning rate.
	LR() float64
	// SetLR changes the learning rate, as schedules do.
	SetLR(lr float64)
	// State returns the optimizer's buffers and counters by name, for
	// checkpoints. The slices alias the optimizer.
	State() map[string][]float32
}

// Momentum is implemented by optimizers whose momentum a OneCycle schedule
// cycles: SGD's momentum, or Adam's beta1.
type Momentum interface {
	SetMomentum(m float64)
	Momentum() float64
}

// LoadState copies saved buffers into an optimizer's state. Every buffer the
// optimizer has must be present with the same length.
func LoadState(o Optimizer, saved map[string][]float32) error {
	for name, dst := range o.State() {
		src, ok := saved[name]
		if !ok {
			return fmt.Errorf("optim: saved state has no %q", name)
		}
		if len(src) != len(dst) {
			return fmt.Errorf("optim: saved state %q has %d values, want %d", name, len(src), len(dst))
		}
		copy(dst, src)
	}
	return nil
}

func checkLen(params, grads []float32) {
	if len(params) != len(grads) {
		panic(fmt.Sprintf("optim: %d parameters but %d gradients", len(params), len(grads)))
	}
}
