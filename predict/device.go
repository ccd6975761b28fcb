package predict

// This file moves a loaded run's inference onto a device (kiln eval,
// predict and serve --device): the model's forward pass runs as package
// device's inference program, and everything else (decoding, transforms,
// the report) stays as it is. It leaves out opening the backend, which the
// command line does.

import (
	"fmt"

	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/internal/backend"
)

// UseDevice makes Logits, Predict, PredictFile and Evaluate run the model
// on b. Only image classifiers whose layers have device ops move; others
// give an error naming what is missing (a *device.UnsupportedError for a
// layer).
func (t *Trained) UseDevice(b backend.Backend) error {
	if t.clf == nil || t.enc != nil {
		return fmt.Errorf("predict: %s is a %s run of %s; only image classifiers run on a device", t.Dir, t.Info.Task, t.Info.Model)
	}
	p, err := device.NewPredictor(t.model, t.model.ParamSet(), b)
	if err != nil {
		return fmt.Errorf("predict: %s: %w", t.Dir, err)
	}
	t.dev = p
	return nil
}

// Device returns the backend the model runs on, or nil for the engine's
// own path.
func (t *Trained) Device() backend.Backend {
	if t.dev == nil {
		return nil
	}
	return t.dev.Backend()
}

// Close frees the model's device memory (a no-op on the engine's path);
// the backend stays open for its opener to close.
func (t *Trained) Close() error {
	if t.dev == nil {
		return nil
	}
	err := t.dev.Close()
	t.dev = nil
	return err
}
