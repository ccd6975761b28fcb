package run

// This file checks the settings of differentially private runs (--dp,
// --max-grad-norm, --noise-multiplier, --target-epsilon, --delta). It
// leaves out DP-SGD itself (package privacy) and its wiring into a run
// (package task's dp.go).

import (
	"fmt"
	"math"
)

// The DP settings a run with DP on takes when they are left at zero.
const (
	DefaultMaxGradNorm = 1.0  // Opacus's MNIST example's clipping norm
	DefaultDelta       = 1e-5 // the delta of Opacus's and TensorFlow Privacy's MNIST figures
)

// SetDPDefaults fills in, when DP is on, the clipping norm and delta left
// at zero.
func (c *Config) SetDPDefaults() {
	if !c.DP {
		return
	}
	if c.MaxGradNorm == 0 {
		c.MaxGradNorm = DefaultMaxGradNorm
	}
	if c.Delta == 0 {
		c.Delta = DefaultDelta
	}
}

// validateDP reports the first DP setting that cannot work, naming its
// flag. With both a target epsilon and a noise multiplier, the noise
// multiplier is the one the run chose for the target (config.json records
// it); the run checks that it still is.
func (c *Config) validateDP() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !c.DP {
		for _, f := range []struct {
			flag string
			v    float64
		}{{"max-grad-norm", c.MaxGradNorm}, {"noise-multiplier", c.NoiseMultiplier}, {"target-epsilon", c.TargetEpsilon}, {"delta", c.Delta}} {
			if f.v != 0 {
				return fmt.Errorf("--%s %g: differential privacy settings need --dp", f.flag, f.v)
			}
		}
		return nil
	}
	switch {
	case c.TaskName() != TaskClassify:
		return fmt.Errorf("--dp: DP-SGD trains classifiers (cross-entropy per example); --task %s is not supported", c.TaskName())
	case !(c.MaxGradNorm > 0) || !finite(c.MaxGradNorm):
		return fmt.Errorf("--max-grad-norm %g: want a finite clipping norm > 0", c.MaxGradNorm)
	case !(c.NoiseMultiplier >= 0) || !finite(c.NoiseMultiplier):
		return fmt.Errorf("--noise-multiplier %g: want a finite number > 0", c.NoiseMultiplier)
	case !(c.TargetEpsilon >= 0) || !finite(c.TargetEpsilon):
		return fmt.Errorf("--target-epsilon %g: want a finite epsilon > 0", c.TargetEpsilon)
	case c.NoiseMultiplier == 0 && c.TargetEpsilon == 0:
		return fmt.Errorf("--dp: give --noise-multiplier (the noise's standard deviation over --max-grad-norm) or --target-epsilon (which chooses it); without noise there is no privacy")
	case !(c.Delta > 0 && c.Delta < 1):
		return fmt.Errorf("--delta %g: want 0 < delta < 1 (1/N or less for N training examples)", c.Delta)
	case c.ClipNorm != 0:
		return fmt.Errorf("--clip-norm %g: it clips the batch's gradient; with --dp each example's gradient is clipped to --max-grad-norm instead", c.ClipNorm)
	case c.SyncBN:
		return fmt.Errorf("--sync-bn: DP-SGD refuses batch normalisation, which mixes the examples of a batch")
	}
	return nil
}
