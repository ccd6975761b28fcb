package optim

// This file holds the float32 coefficients of one Adam or SGD step, as
// the optimizers hand them to their kernels. A device that runs the update
// itself (package device) takes them from here, so that its step and the
// host's round the same way.

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
		Decay: float32(1 - c.LR*c.WeightDecay),
	}
}

// StepCoef returns the coefficients of an SGD step under c; first says
// whether the momentum buffer is still empty.
func (c SGDConfig) StepCoef(first bool) kernels.SGDCoef {
	return kernels.SGDCoef{LR: float32(c.LR), WD: float32(c.WeightDecay), Momentum: float32(c.Momentum),
		Damp: float32(1 - c.Dampening), First: first, Nesterov: c.Nesterov}
}
