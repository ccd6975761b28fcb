package optim

// This file holds the float32 coefficients of one Adam, SGD or RMSprop
// step, as the optimizers hand them to their kernels. A device that runs
// the update itself (package device) takes them from here, so that its
// step and the host's round the same way.

import (
	"math"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// StepCoef returns the coefficients of Adam's step t (counting from 1)
// under c, PyTorch's defaults filled in for zero betas and epsilon.
func (c AdamConfig) StepCoef(t float64) kernels.AdamCoef {
	c.defaults()
	bc1 := 1 - math.Pow(c.Beta1, t)
	return kernels.AdamCoef{
		B1: float32(c.Beta1), B2: float32(c.Beta2),
		C1: float32(1 - c.Beta1), C2: float32(1 - c.Beta2),
		BC2Sqrt: float32(math.Sqrt(1 - math.Pow(c.Beta2, t))),
		NegStep: -float32(c.LR / bc1),
		Eps:     float32(c.Eps), WD: float32(c.WeightDecay),
		Decay:    float32(1 - c.LR*c.WeightDecay),
		Maximize: c.Maximize,
	}
}

// Mode returns how Adam (or, decoupled, AdamW) applies c's weight decay:
// shrinking the parameters, added to the gradient, or not at all.
func (c AdamConfig) Mode(decoupled bool) kernels.AdamMode {
	switch {
	case decoupled:
		return kernels.AdamDecoupled
	case float32(c.WeightDecay) != 0:
		return kernels.AdamL2
	}
	return kernels.AdamPlain
}

// StepCoef returns the coefficients of an SGD step under c; first says
// whether the momentum buffer is still empty.
func (c SGDConfig) StepCoef(first bool) kernels.SGDCoef {
	return kernels.SGDCoef{LR: float32(c.LR), WD: float32(c.WeightDecay), Momentum: float32(c.Momentum),
		Damp: float32(1 - c.Dampening), First: first, Nesterov: c.Nesterov, Maximize: c.Maximize}
}

// StepCoef returns the coefficients of an RMSprop step under c,
// PyTorch's defaults filled in for zero alpha and epsilon. Whether the
// step is centered or has momentum is the buffers' business
// (kernels.RMSpropStep).
func (c RMSpropConfig) StepCoef() kernels.RMSpropCoef {
	c.defaults()
	return kernels.RMSpropCoef{LR: float32(c.LR), Alpha: float32(c.Alpha), C1: float32(1 - c.Alpha),
		Eps: float32(c.Eps), WD: float32(c.WeightDecay), Momentum: float32(c.Momentum), Maximize: c.Maximize}
}
