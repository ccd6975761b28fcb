package main

// This file opens the backend of --device (kiln train, eval, predict,
// bench and serve) before any data are loaded, so that a kiln without
// CUDA, or a machine without a GPU, fails at once. It leaves out the
// device path itself (packages device, task, predict).

import (
	"errors"
	"flag"
	"fmt"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
)

// deviceUsage is the --device help of the inference commands.
const deviceUsage = "where the model runs: cpu (default: the engine), cpu-backend (the device path on the CPU, the engine's bits) or cuda (an NVIDIA GPU: a kiln built with go build -tags cuda ./cmd/kiln)"

// deviceFlag adds --device to an inference command's flags.
func deviceFlag(fs *flag.FlagSet) *string {
	return fs.String("device", run.DeviceCPU, deviceUsage)
}

// openDevice opens cfg's --device backend, or returns nil for the
// engine's own path.
func openDevice(cfg run.Config) (backend.Backend, error) {
	if !cfg.OnDevice() {
		return nil, nil
	}
	return openDeviceName(cfg.Device)
}

// openDeviceName opens the backend --device names: nil for cpu (the
// engine's own path). An unknown name, or a backend this kiln was built
// without, is a usage error (exit 2), the latter saying how to build one;
// a backend that cannot start names what it did not find.
func openDeviceName(name string) (backend.Backend, error) {
	switch name {
	case "", run.DeviceCPU:
		return nil, nil
	case run.DeviceCPUBackend, run.DeviceCUDA:
	default:
		return nil, usageError{fmt.Errorf("--device %q: want cpu, cpu-backend or cuda", name)}
	}
	b, err := backend.Open(task.BackendName(name))
	var nb *backend.NotBuiltError
	if errors.As(err, &nb) {
		return nil, usageError{fmt.Errorf("--device %s: %w", name, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("--device %s: %w", name, err)
	}
	return b, nil
}

// closeDevice closes b (nil: nothing) and keeps the first error.
func closeDevice(b backend.Backend, err *error) {
	if b == nil {
		return
	}
	if cerr := b.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("--device %s: %w", b.Name(), cerr)
	}
}
