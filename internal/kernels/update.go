package kernels

// This file holds the optimizer updates step.go's vector kernels leave
// out: Adam and AdamW with amsgrad or maximize (SGD's maximize is in
// step_generic.go's loop), and RMSprop. They are plain Go loops in
// PyTorch 1.13's single-tensor operation order, shared by package optim
// and the CPU backend so the two give the same bits. It leaves out
// assembly: these settings are rare.

import (
	"fmt"
	"math"
)

// AdamAMSGradStep is AdamStep with PyTorch's amsgrad: vmax keeps the
// running maximum of v (NaN sticks), and the denominator is
// sqrt(vmax)/bc2 + eps. c.Maximize negates the gradient first. It panics
// when the lengths differ.
func AdamAMSGradStep(mode AdamMode, p, g, m, v, vmax []float32, c *AdamCoef) {
	if len(g) != len(p) || len(m) != len(p) || len(v) != len(p) || len(vmax) != len(p) {
		panic(fmt.Sprintf("kernels: AdamAMSGradStep: lengths %d, %d, %d, %d, %d differ", len(p), len(g), len(m), len(v), len(vmax)))
	}
	runUpdate(rangeTask{kind: updateAdamFull, mode: mode, p: p, g: g, m: m, v: v, vmax: vmax, adam: *c}, len(p))
}

// adamStepFull is Adam's loop with maximize and, when vmax is not nil,
// amsgrad; without them it is adamStepGo, the assembly's reference.
func adamStepFull(mode AdamMode, p, g, m, v, vmax []float32, c *AdamCoef) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i, gi := range g {
		if c.Maximize {
			gi = -gi
		}
		switch mode {
		case AdamL2:
			gi += c.WD * p[i]
		case AdamDecoupled:
			p[i] *= c.Decay
		}
		m[i] = m[i]*c.B1 + gi*c.C1
		v[i] = v[i]*c.B2 + c.C2*gi*gi
		vv := v[i]
		if vmax != nil {
			if vv > vmax[i] || vv != vv {
				vmax[i] = vv
			}
			vv = vmax[i]
		}
		denom := float32(math.Sqrt(float64(vv)))/c.BC2Sqrt + c.Eps
		p[i] += (c.NegStep * m[i]) / denom // addcdiv: (value*m)/denom
	}
}

// RMSpropCoef holds one RMSprop step's float32 coefficients, each rounded
// from PyTorch's float64 hyperparameter.
type RMSpropCoef struct {
	LR, Alpha float32
	C1        float32 // 1 - alpha, rounded from float64
	Eps, WD   float32
	Momentum  float32
	Maximize  bool
}

// RMSpropStep applies one torch.optim.RMSprop update to p with gradient g
// and the running mean square sq. avg, the running mean gradient, is used
// when not nil (centered=True); buf, the momentum buffer, when not nil
// (momentum > 0). The order is PyTorch's: g = -g (maximize); g += wd*p
// (wd not zero); sq = sq*alpha + (c1*g)*g; with avg, avg = avg*alpha +
// g*c1 and a = sqrt(sq - avg*avg) + eps, else a = sqrt(sq) + eps; with
// buf, buf = buf*momentum + g/a and p -= lr*buf, else p += (-lr*g)/a.
// It panics when the lengths differ.
func RMSpropStep(p, g, sq, avg, buf []float32, c *RMSpropCoef) {
	if len(g) != len(p) || len(sq) != len(p) || (avg != nil && len(avg) != len(p)) || (buf != nil && len(buf) != len(p)) {
		panic(fmt.Sprintf("kernels: RMSpropStep: lengths %d, %d, %d, %d, %d differ", len(p), len(g), len(sq), len(avg), len(buf)))
	}
	runUpdate(rangeTask{kind: updateRMSprop, p: p, g: g, m: sq, v: avg, vmax: buf, rms: *c}, len(p))
}

// rmspropStep is RMSpropStep's loop.
func rmspropStep(p, g, sq, avg, buf []float32, c *RMSpropCoef) {
	g, sq = g[:len(p)], sq[:len(p)]
	for i, gi := range g {
		if c.Maximize {
			gi = -gi
		}
		if c.WD != 0 {
			gi += c.WD * p[i]
		}
		sq[i] = sq[i]*c.Alpha + c.C1*gi*gi
		var a float32
		if avg != nil {
			avg[i] = avg[i]*c.Alpha + gi*c.C1
			a = float32(math.Sqrt(float64(sq[i]-avg[i]*avg[i]))) + c.Eps
		} else {
			a = float32(math.Sqrt(float64(sq[i]))) + c.Eps
		}
		if buf != nil {
			buf[i] = buf[i]*c.Momentum + gi/a
			p[i] -= c.LR * buf[i]
		} else {
			p[i] += (-c.LR * gi) / a
		}
	}
}
