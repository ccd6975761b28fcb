package run

// This file checks Config.Device, where a run's training step runs. It
// leaves out the devices themselves (packages device, internal/backend).

import (
	"fmt"
)

// The devices a run may name. DeviceCPU ("" too) is the engine's own
// autograd path; DeviceCPUBackend runs the device path (package device) on
// the CPU backend, giving the engine's bits, so the seam is exercised
// without a GPU; DeviceCUDA runs it on an NVIDIA GPU (a kiln built with
// -tags cuda).
const (
	DeviceCPU        = "cpu"
	DeviceCPUBackend = "cpu-backend"
	DeviceCUDA       = "cuda"
)

// OnDevice reports whether c's step runs on the device path.
func (c *Config) OnDevice() bool { return c.Device != "" && c.Device != DeviceCPU }

// CheckTF32 refuses --tf32 on any device but cuda; every command with
// --device uses it.
func CheckTF32(device string, tf32 bool) error {
	if tf32 && device != DeviceCUDA {
		return fmt.Errorf("--tf32: TF32 is a mode of NVIDIA tensor cores; it needs --device cuda, not %q", device)
	}
	return nil
}

// validateDevice reports a --device the device path cannot run.
func (c *Config) validateDevice() error {
	if err := CheckTF32(c.Device, c.TF32); err != nil {
		return err
	}
	switch c.Device {
	case "", DeviceCPU:
		return nil
	case DeviceCPUBackend, DeviceCUDA:
	default:
		return fmt.Errorf("--device %q: want cpu, cpu-backend or cuda", c.Device)
	}
	switch {
	case c.TaskName() != TaskClassify:
		return fmt.Errorf("--device %s: only --task classify runs on a device, not %s", c.Device, c.TaskName())
	case c.DP:
		return fmt.Errorf("--device %s: --dp has no device op yet; train with --device cpu", c.Device)
	}
	return nil
}
