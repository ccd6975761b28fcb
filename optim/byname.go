package optim

import "strings"

// Names are the optimizers New builds, by the names kiln's --optimizer
// flag takes.
var Names = []string{"adam", "adamw", "sgd", "rmsprop"}

// New builds the optimizer called name (case-insensitive; see Names, and
// anything else is Adam) over flat parameters and gradients with the
// given learning rate, momentum (SGD and RMSprop) and weight decay, every
// other setting PyTorch's default.
func New(name string, params, grads []float32, lr, momentum, weightDecay float64) Optimizer {
	switch strings.ToLower(name) {
	case "sgd":
		return NewSGD(params, grads, SGDConfig{LR: lr, Momentum: momentum, WeightDecay: weightDecay})
	case "rmsprop":
		return NewRMSprop(params, grads, RMSpropConfig{LR: lr, Momentum: momentum, WeightDecay: weightDecay})
	case "adamw":
		return NewAdamW(params, grads, AdamConfig{LR: lr, WeightDecay: weightDecay})
	}
	return NewAdam(params, grads, AdamConfig{LR: lr, WeightDecay: weightDecay})
}
