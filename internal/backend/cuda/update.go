//go:build cuda

package cuda

// This file is the backend's optimizer updates: kernelsrc's adam_step,
// adam_amsgrad_step, sgd_step and rmsprop_step over the flat parameter,
// gradient and state buffers, with the coefficients the host computed
// (optim's StepCoef methods). It leaves out the step count and the
// learning rate, which stay on the host.

import (
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/kernels"
)

// AdamStep runs adam_step, or adam_amsgrad_step with vmax; the kernels'
// mode carries maximize in bit 4.
func (b *Backend) AdamStep(mode kernels.AdamMode, p, g, m, v, vmax backend.Buffer, c kernels.AdamCoef) {
	backend.MustLen("AdamStep", "g", g.Len(), p.Len())
	backend.MustLen("AdamStep", "m", m.Len(), p.Len())
	backend.MustLen("AdamStep", "v", v.Len(), p.Len())
	md := int32(mode)
	if c.Maximize {
		md |= 4
	}
	k := []any{c.B1, c.B2, c.C1, c.C2, c.BC2Sqrt, c.NegStep, c.Eps, c.WD, c.Decay}
	if vmax.IsNil() {
		b.launch("adam_step", p.Len(), append([]any{ptr(p), ptr(g), ptr(m), ptr(v), p.Len(), md}, k...)...)
		return
	}
	backend.MustLen("AdamStep", "vmax", vmax.Len(), p.Len())
	b.launch("adam_amsgrad_step", p.Len(), append([]any{ptr(p), ptr(g), ptr(m), ptr(v), ptr(vmax), p.Len(), md}, k...)...)
}

// SGDStep runs sgd_step.
func (b *Backend) SGDStep(p, g, buf backend.Buffer, c kernels.SGDCoef) {
	backend.MustLen("SGDStep", "g", g.Len(), p.Len())
	bp := ptr(buf)
	if c.Momentum == 0 || bp == 0 {
		bp = ptr(p) // not read or written
	} else {
		backend.MustLen("SGDStep", "buf", buf.Len(), p.Len())
	}
	b.launch("sgd_step", p.Len(), ptr(p), ptr(g), bp, p.Len(), c.LR, c.WD, c.Momentum, c.Damp,
		boolArg(c.First), boolArg(c.Nesterov), boolArg(c.Maximize))
}

// RMSpropStep runs rmsprop_step; an absent avg or buf is not read.
func (b *Backend) RMSpropStep(p, g, sq, avg, buf backend.Buffer, c kernels.RMSpropCoef) {
	backend.MustLen("RMSpropStep", "g", g.Len(), p.Len())
	backend.MustLen("RMSpropStep", "sq", sq.Len(), p.Len())
	if !avg.IsNil() {
		backend.MustLen("RMSpropStep", "avg", avg.Len(), p.Len())
	}
	if !buf.IsNil() {
		backend.MustLen("RMSpropStep", "buf", buf.Len(), p.Len())
	}
	b.launch("rmsprop_step", p.Len(), ptr(p), ptr(g), ptr(sq), or(ptr(avg), ptr(p)), or(ptr(buf), ptr(p)), p.Len(),
		c.LR, c.Alpha, c.C1, c.Eps, c.WD, c.Momentum, boolArg(!avg.IsNil()), boolArg(!buf.IsNil()), boolArg(c.Maximize))
}
