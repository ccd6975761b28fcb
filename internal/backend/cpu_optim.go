package backend

// This file is the CPU backend's optimizer updates: each calls the kernel
// package optim's own step calls (internal/kernels' step.go and
// update.go), so a device update on the CPU is optim's, bit for bit. It
// leaves out the coefficients, which the caller computes (optim's
// StepCoef methods).

import "github.com/kiln-ml/kiln/internal/kernels"

// AdamStep calls kernels.AdamStep, or kernels.AdamAMSGradStep with vmax.
func (*CPU) AdamStep(mode kernels.AdamMode, p, g, m, v, vmax Buffer, c kernels.AdamCoef) {
	if !vmax.IsNil() {
		kernels.AdamAMSGradStep(mode, Floats(p), Floats(g), Floats(m), Floats(v), Floats(vmax), &c)
		return
	}
	kernels.AdamStep(mode, Floats(p), Floats(g), Floats(m), Floats(v), &c)
}

// SGDStep calls kernels.SGDStep.
func (*CPU) SGDStep(p, g, buf Buffer, c kernels.SGDCoef) {
	kernels.SGDStep(Floats(p), Floats(g), Floats(buf), &c)
}

// RMSpropStep calls kernels.RMSpropStep; an absent avg or buf is a nil
// slice there.
func (*CPU) RMSpropStep(p, g, sq, avg, buf Buffer, c kernels.RMSpropCoef) {
	kernels.RMSpropStep(Floats(p), Floats(g), Floats(sq), Floats(avg), Floats(buf), &c)
}
