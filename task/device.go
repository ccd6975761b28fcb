package task

// This file moves a run's training step onto a device (--device
// cpu-backend or cuda): the classifier's learner and optimizer become
// package device's, over the same model and ParamSet, so checkpoints,
// training states and the run directory are unchanged. It leaves out
// opening a GPU early, which the command line does (Options.Backend);
// without one the backend is opened here by name (backend.Open).

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
)

// useDevice replaces the session's learner and optimizer with a
// device.Classifier when the config asks for a device.
func (s *session) useDevice() error {
	cfg := s.cfg
	if !cfg.OnDevice() {
		return nil
	}
	b := s.opt.Backend
	if b == nil {
		var err error
		if b, err = backend.Open(BackendName(cfg.Device), backend.Options{TF32: cfg.TF32}); err != nil {
			return fmt.Errorf("--device %s: %w", cfg.Device, err)
		}
		s.ownDev = b
	}
	c, err := device.NewClassifier(s.model, s.model.ParamSet(), deviceOptimizer(cfg), b)
	if err != nil {
		return fmt.Errorf("--device %s: %w", cfg.Device, err)
	}
	s.learner, s.optim = c, c.Optimizer()
	return nil
}

// BackendName is the backend.Open name of a config's Device.
func BackendName(dev string) string {
	if dev == run.DeviceCPUBackend {
		return "cpu"
	}
	return dev
}

// deviceOptimizer is NewOptimizer's choice as device settings.
func deviceOptimizer(cfg run.Config) device.OptimizerSettings {
	name := strings.ToLower(cfg.Optimizer)
	if name == "" {
		name = "adam"
	}
	return device.OptimizerSettings{Name: name, ClipNorm: cfg.ClipNorm,
		Adam:    optim.AdamConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay},
		SGD:     optim.SGDConfig{LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay},
		RMSprop: optim.RMSpropConfig{LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay}}
}

// release frees the device classifier's memory and closes the backend the
// session opened itself, so that a process running many sessions (kiln
// tune's trials, kiln cv's folds) holds one model's device memory at a
// time. A failure is logged: the run's results are already written.
func (s *session) release() {
	var errs []error
	if dc, ok := s.learner.(*device.Classifier); ok {
		errs = append(errs, dc.Close())
	}
	if s.ownDev != nil {
		errs = append(errs, s.ownDev.Close())
		s.ownDev = nil
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(s.log, "kiln: releasing --device %s: %v\n", s.cfg.Device, err)
	}
}
