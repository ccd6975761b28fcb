package main

// This file opens the backend of kiln train --device before any data are
// loaded, so that a kiln without CUDA, or a machine without a GPU, fails at
// once. It leaves out the device path itself (packages device, task).

import (
	"errors"
	"fmt"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
)

// openDevice opens cfg's --device backend, or returns nil for the
// engine's own path. A backend this kiln was built without is a usage
// error (exit 2) that says how to build one; one that cannot start names
// what it did not find.
func openDevice(cfg run.Config) (backend.Backend, error) {
	if !cfg.OnDevice() {
		return nil, nil
	}
	b, err := backend.Open(task.BackendName(cfg.Device))
	var nb *backend.NotBuiltError
	if errors.As(err, &nb) {
		return nil, usageError{fmt.Errorf("--device %s: %w", cfg.Device, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("--device %s: %w", cfg.Device, err)
	}
	return b, nil
}
