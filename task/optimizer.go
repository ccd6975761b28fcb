package task

// This file builds a config's optimizer and schedule. It leaves out
// per-parameter groups, which package optim does not have.

import (
	"strings"

	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
)

// NewOptimizer builds cfg's optimizer over flat parameters and gradients.
func NewOptimizer(cfg run.Config, params, grads []float32) optim.Optimizer {
	return optim.New(cfg.Optimizer, params, grads, cfg.LR, cfg.Momentum, cfg.WeightDecay)
}

// newScheduler builds cfg's schedule; steps is the number of batches per
// epoch. It reports whether the schedule steps per batch.
func newScheduler(cfg run.Config, opt optim.Optimizer, steps int) (optim.Scheduler, bool, error) {
	switch strings.ToLower(cfg.Scheduler) {
	case "step":
		return optim.NewStepLR(opt, max(cfg.Epochs/3, 1), 0.1), false, nil
	case "cosine":
		return optim.NewCosineAnnealingLR(opt, cfg.Epochs, 0), false, nil
	case "onecycle":
		s, err := optim.NewOneCycleLR(opt, optim.OneCycleConfig{MaxLR: cfg.LR, TotalSteps: cfg.Epochs * steps})
		return s, true, err
	}
	return nil, false, nil
}
