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

// tf32Usage is the --tf32 help of every command with --device.
const tf32Usage = "with --device cuda: matrix products on TF32 tensor cores (PyTorch's allow_tf32: inputs rounded to 10 mantissa bits, about 1e-3 relative error, several times faster)"

// deviceFlags are --device and --tf32 as an inference command has them.
type deviceFlags struct {
	name string
	tf32 bool
}

// addDeviceFlags adds --device and --tf32 to an inference command's
// flags.
func addDeviceFlags(fs *flag.FlagSet) *deviceFlags {
	d := &deviceFlags{}
	fs.StringVar(&d.name, "device", run.DeviceCPU, deviceUsage)
	fs.BoolVar(&d.tf32, "tf32", false, tf32Usage)
	return d
}

// open opens the backend d names: nil for cpu (the engine's own path).
func (d *deviceFlags) open() (backend.Backend, error) { return openDeviceName(d.name, d.tf32) }

// openDevice opens cfg's --device backend, or returns nil for the
// engine's own path.
func openDevice(cfg run.Config) (backend.Backend, error) {
	if !cfg.OnDevice() {
		return nil, nil
	}
	return openDeviceName(cfg.Device, cfg.TF32)
}

// openDeviceName opens the backend --device names, with --tf32: nil for
// cpu (the engine's own path). An unknown name, --tf32 off CUDA, or a
// backend this kiln was built without is a usage error (exit 2), the last
// saying how to build one; a backend that cannot start names what it did
// not find.
func openDeviceName(name string, tf32 bool) (backend.Backend, error) {
	if err := run.CheckTF32(name, tf32); err != nil {
		return nil, usageError{err}
	}
	switch name {
	case "", run.DeviceCPU:
		return nil, nil
	case run.DeviceCPUBackend, run.DeviceCUDA:
	default:
		return nil, usageError{fmt.Errorf("--device %q: want cpu, cpu-backend or cuda", name)}
	}
	b, err := backend.Open(task.BackendName(name), backend.Options{TF32: tf32})
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
