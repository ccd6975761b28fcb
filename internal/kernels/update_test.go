package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// updateData returns n finite values and n non-negative ones (second
// moments) from r.
func updateData(r *rand.Rand, n int) (x, sq []float32) {
	x, sq = make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		sq[i] = float32(math.Abs(r.NormFloat64()))
	}
	return x, sq
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

func neg(s []float32) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = -v
	}
	return out
}

// TestAdamFullLoopMatchesVector: update.go's Adam loop without amsgrad or
// maximize gives the vector kernel's bits, so moving optim's rare cases
// onto it changes nothing in the common one; with maximize it gives the
// plain step of the negated gradient.
func TestAdamFullLoopMatchesVector(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	for _, n := range []int{0, 1, 15, 16, 17, 63} {
		for _, mode := range []AdamMode{AdamPlain, AdamL2, AdamDecoupled} {
			c := AdamCoef{B1: 0.9, B2: 0.999, C1: float32(1 - 0.9), C2: float32(1 - 0.999), BC2Sqrt: 0.0447, NegStep: -0.0123,
				Eps: 1e-8, WD: 0.01, Decay: 0.99}
			p, v := updateData(r, n)
			g, _ := updateData(r, n)
			m, _ := updateData(r, n)
			wp, wm, wv := clone(p), clone(m), clone(v)
			AdamStep(mode, wp, g, wm, wv, &c)
			gp, gm, gv := clone(p), clone(m), clone(v)
			adamStepFull(mode, gp, g, gm, gv, nil, &c)
			sameBits(t, "full loop p", gp, wp, false)
			sameBits(t, "full loop m", gm, wm, false)
			sameBits(t, "full loop v", gv, wv, false)

			mc := c
			mc.Maximize = true
			xp, xm, xv := clone(p), clone(m), clone(v)
			AdamStep(mode, xp, neg(g), xm, xv, &mc)
			sameBits(t, "maximize p", xp, wp, false)
			sameBits(t, "maximize m", xm, wm, false)
		}
	}
}

// TestAdamAMSGrad: the first step from a zero maximum is the plain step
// (v never falls below zero) and leaves v in vmax; a maximum above v is
// kept and divides instead.
func TestAdamAMSGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 2))
	n := 37
	c := AdamCoef{B1: 0.9, B2: 0.999, C1: float32(1 - 0.9), C2: float32(1 - 0.999), BC2Sqrt: 0.0447, NegStep: -0.0123, Eps: 1e-8}
	p, v := updateData(r, n)
	g, _ := updateData(r, n)
	m, _ := updateData(r, n)
	wp, wm, wv := clone(p), clone(m), clone(v)
	AdamStep(AdamPlain, wp, g, wm, wv, &c)
	gp, gm, gv, vmax := clone(p), clone(m), clone(v), make([]float32, n)
	AdamAMSGradStep(AdamPlain, gp, g, gm, gv, vmax, &c)
	sameBits(t, "amsgrad p", gp, wp, false)
	sameBits(t, "amsgrad vmax", vmax, wv, false)

	big := make([]float32, n)
	for i := range big {
		big[i] = 1e4
	}
	hp := clone(p)
	AdamAMSGradStep(AdamPlain, hp, g, clone(m), clone(v), big, &c)
	for i := range big {
		if big[i] != 1e4 {
			t.Fatalf("vmax[%d] = %v: a larger maximum was replaced", i, big[i])
		}
		// sqrt(1e4)/bc2 dwarfs eps: the step is negstep*m/(100/bc2).
		want := p[i] + c.NegStep*wm[i]/(100/c.BC2Sqrt)
		if d := math.Abs(float64(hp[i] - want)); d > 1e-6*math.Max(1, math.Abs(float64(want))) {
			t.Fatalf("p[%d] = %v, want %v with the maximum dividing", i, hp[i], want)
		}
	}
}

// TestSGDMaximize: maximize is the step of the negated gradient, with
// and without momentum.
func TestSGDMaximize(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	for _, c := range []SGDCoef{{LR: 0.1}, {LR: 0.05, WD: 1e-3, Momentum: 0.9, Damp: 1, First: true},
		{LR: 0.05, Momentum: 0.9, Damp: 0.5, Nesterov: true}} {
		p, _ := updateData(r, 33)
		g, _ := updateData(r, 33)
		buf, _ := updateData(r, 33)
		wp, wb := clone(p), clone(buf)
		SGDStep(wp, neg(g), wb, &c)
		c.Maximize = true
		SGDStep(p, g, buf, &c)
		sameBits(t, "sgd maximize p", p, wp, false)
		sameBits(t, "sgd maximize buf", buf, wb, false)
	}
}

// TestRMSprop checks one step of each variant against the formula in
// float64, and maximize against the negated gradient's step.
func TestRMSprop(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 4))
	n := 29
	for _, v := range []struct {
		centered, momentum bool
		wd                 float32
	}{{false, false, 0}, {true, false, 0.01}, {false, true, 0}, {true, true, 0.05}} {
		c := RMSpropCoef{LR: 0.01, Alpha: 0.9, C1: float32(1 - 0.9), Eps: 1e-6, WD: v.wd, Momentum: 0.5}
		p, sq := updateData(r, n)
		g, _ := updateData(r, n)
		avg, _ := updateData(r, n)
		for i := range avg {
			avg[i] *= 0.1 // below sqrt(sq) mostly; the formula takes any sign under the root
			sq[i] += avg[i] * avg[i]
		}
		buf, _ := updateData(r, n)
		var ga, gb []float32
		if v.centered {
			ga = clone(avg)
		}
		if v.momentum {
			gb = clone(buf)
		}
		gp, gs := clone(p), clone(sq)
		RMSpropStep(gp, g, gs, ga, gb, &c)
		for i := range p {
			gi := float64(g[i]) + float64(v.wd)*float64(p[i])
			s := float64(sq[i])*0.9 + 0.1*gi*gi
			den := math.Sqrt(s)
			if v.centered {
				a := float64(avg[i])*0.9 + 0.1*gi
				den = math.Sqrt(s - a*a)
			}
			den += 1e-6
			want := float64(p[i]) - 0.01*gi/den
			if v.momentum {
				want = float64(p[i]) - 0.01*(float64(buf[i])*0.5+gi/den)
			}
			if d := math.Abs(float64(gp[i]) - want); d > 1e-5*math.Max(1, math.Abs(want)) {
				t.Fatalf("%+v: p[%d] = %v, formula %v", v, i, gp[i], want)
			}
		}
		mc := c
		mc.Maximize = true
		mp, ms := clone(p), clone(sq)
		var ma, mb []float32
		if v.centered {
			ma = clone(avg)
		}
		if v.momentum {
			mb = clone(buf)
		}
		RMSpropStep(mp, neg(g), ms, ma, mb, &mc)
		sameBits(t, "rmsprop maximize p", mp, gp, false)
		sameBits(t, "rmsprop maximize sq", ms, gs, false)
	}
}
