package kernelsrc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

func hostData(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

func dup(s []float32) []float32 { return append([]float32(nil), s...) }

// TestActivationsOnHost: sigmoid_fwd and tanh_fwd against float64
// references, their _grad_acc kernels against autograd's formulas.
func TestActivationsOnHost(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	n := 53
	x, dy, dx := hostData(r, n, 4), hostData(r, n, 1), hostData(r, n, 1)
	sy, ty := make([]float32, n), make([]float32, n)
	sdx, tdx := dup(dx), dup(dx)
	runOnHost(t, []launch{
		{"sigmoid_fwd", []any{sy, x, n}},
		{"tanh_fwd", []any{ty, x, n}},
		{"sigmoid_grad_acc", []any{sdx, sy, dy, n}},
		{"tanh_grad_acc", []any{tdx, ty, dy, n}},
	})
	ws, wt, wsd, wtd := make([]float32, n), make([]float32, n), dup(dx), dup(dx)
	for i, v := range x {
		ws[i] = float32(1 / (1 + math.Exp(-float64(v))))
		wt[i] = float32(math.Tanh(float64(v)))
		wsd[i] += dy[i] * sy[i] * (1 - sy[i])
		wtd[i] += dy[i] * (1 - ty[i]*ty[i])
	}
	closeRel(t, "sigmoid_fwd", sy, ws, 1e-6)
	closeRel(t, "tanh_fwd", ty, wt, 1e-6)
	closeRel(t, "sigmoid_grad_acc", sdx, wsd, 1e-6)
	closeRel(t, "tanh_grad_acc", tdx, wtd, 1e-6)
}

// TestAvgPoolOnHost: avgpool_fwd and avgpool_bwd_acc (a gather over the
// windows) against conv's average pooling, with padding, ceil mode,
// count_include_pad=False and a divisor override.
func TestAvgPoolOnHost(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2))
	var ls []launch
	var checks []func()
	for _, p := range []conv.AvgPool2dParams{
		{N: 2, C: 3, H: 6, W: 5, KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{N: 1, C: 2, H: 7, W: 6, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1, CeilMode: true},
		{N: 2, C: 1, H: 5, W: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, ExcludePad: true, CeilMode: true},
		{N: 1, C: 2, H: 4, W: 6, KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadH: 1, DivisorOverride: 5},
		{N: 1, C: 1, H: 9, W: 8, KH: 4, KW: 3, StrideH: 3, StrideW: 2, PadH: 2, PadW: 1},
	} {
		nx, ny := p.N*p.C*p.H*p.W, p.N*p.C*p.OutH()*p.OutW()
		x, dy, dx := hostData(r, nx, 1), hostData(r, ny, 1), hostData(r, nx, 1)
		geo := []any{p.N * p.C, p.H, p.W, p.OutH(), p.OutW(), p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW, 0, p.DivisorOverride}
		if p.ExcludePad {
			geo[11] = 1
		}
		y, gdx := make([]float32, ny), dup(dx)
		ls = append(ls, launch{"avgpool_fwd", append([]any{y, x}, geo...)}, launch{"avgpool_bwd_acc", append([]any{gdx, dy}, geo...)})
		checks = append(checks, func() {
			wy, wdx := make([]float32, ny), dup(dx)
			conv.AvgPool2dForward(p, x, wy)
			conv.AvgPool2dBackward(p, dy, wdx)
			closeRel(t, fmt.Sprintf("avgpool_fwd %+v", p), y, wy, 1e-5)
			closeRel(t, fmt.Sprintf("avgpool_bwd_acc %+v", p), gdx, wdx, 1e-5)
		})
	}
	runOnHost(t, ls)
	for _, c := range checks {
		c()
	}
}

// TestUpdatesOnHost: three steps of adam_step (each mode, maximize in
// mode bit 4), adam_amsgrad_step, sgd_step and rmsprop_step against the
// CPU kernels optim runs.
func TestUpdatesOnHost(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 3))
	n := 45
	p0, g, m0 := hostData(r, n, 1), hostData(r, n, 1), hostData(r, n, 0.1)
	v0 := make([]float32, n)
	for i, x := range m0 {
		v0[i] = x * x
	}
	type run struct {
		name      string
		got, want [][]float32
	}
	var runs []run
	var ls []launch
	for _, mode := range []kernels.AdamMode{kernels.AdamPlain, kernels.AdamL2, kernels.AdamDecoupled} {
		for _, o := range []struct{ amsgrad, maximize bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
			c := kernels.AdamCoef{B1: 0.9, B2: 0.999, C1: 0.1, C2: 0.001, BC2Sqrt: 0.1, NegStep: -0.01, Eps: 1e-8, WD: 0.01, Decay: 0.999,
				Maximize: o.maximize}
			md := int(mode)
			if o.maximize {
				md |= 4
			}
			gp, gm, gv, gx := dup(p0), dup(m0), dup(v0), make([]float32, n)
			wp, wm, wv, wx := dup(p0), dup(m0), dup(v0), make([]float32, n)
			k := []any{c.B1, c.B2, c.C1, c.C2, c.BC2Sqrt, c.NegStep, c.Eps, c.WD, c.Decay}
			for range 3 {
				if o.amsgrad {
					ls = append(ls, launch{"adam_amsgrad_step", append([]any{gp, g, gm, gv, gx, n, md}, k...)})
					kernels.AdamAMSGradStep(mode, wp, g, wm, wv, wx, &c)
				} else {
					ls = append(ls, launch{"adam_step", append([]any{gp, g, gm, gv, n, md}, k...)})
					kernels.AdamStep(mode, wp, g, wm, wv, &c)
				}
			}
			runs = append(runs, run{"adam", [][]float32{gp, gm, gv, gx}, [][]float32{wp, wm, wv, wx}})
		}
	}
	for _, c := range []kernels.SGDCoef{{LR: 0.1, Maximize: true}, {LR: 0.1, WD: 0.01, Momentum: 0.9, Damp: 1, First: true, Maximize: true},
		{LR: 0.1, Momentum: 0.9, Damp: 0.5, Nesterov: true}} {
		gp, gb, wp, wb := dup(p0), dup(m0), dup(p0), dup(m0)
		for range 3 {
			ls = append(ls, launch{"sgd_step", []any{gp, g, gb, n, c.LR, c.WD, c.Momentum, c.Damp, b2i(c.First), b2i(c.Nesterov), b2i(c.Maximize)}})
			kernels.SGDStep(wp, g, wb, &c)
		}
		runs = append(runs, run{"sgd", [][]float32{gp, gb}, [][]float32{wp, wb}})
	}
	for _, o := range []struct {
		centered, momentum bool
		c                  kernels.RMSpropCoef
	}{
		{false, false, kernels.RMSpropCoef{LR: 0.01, Alpha: 0.99, C1: float32(1 - 0.99), Eps: 1e-8}},
		{true, true, kernels.RMSpropCoef{LR: 0.01, Alpha: 0.9, C1: float32(1 - 0.9), Eps: 1e-6, WD: 0.01, Momentum: 0.9}},
		{false, true, kernels.RMSpropCoef{LR: 0.01, Alpha: 0.95, C1: float32(1 - 0.95), Eps: 1e-8, Momentum: 0.5, Maximize: true}},
		{true, false, kernels.RMSpropCoef{LR: 0.01, Alpha: 0.99, C1: float32(1 - 0.99), Eps: 1e-8, WD: 0.1, Maximize: true}},
	} {
		gp, gs, ga, gb := dup(p0), dup(v0), make([]float32, n), dup(m0)
		wp, ws := dup(p0), dup(v0)
		var wa, wb []float32
		if o.centered {
			wa = make([]float32, n)
		}
		if o.momentum {
			wb = dup(m0)
		}
		c := o.c
		for range 3 {
			ls = append(ls, launch{"rmsprop_step", []any{gp, g, gs, ga, gb, n, c.LR, c.Alpha, c.C1, c.Eps, c.WD, c.Momentum,
				b2i(o.centered), b2i(o.momentum), b2i(c.Maximize)}})
			kernels.RMSpropStep(wp, g, ws, wa, wb, &c)
		}
		got, want := [][]float32{gp, gs}, [][]float32{wp, ws}
		if o.centered {
			got, want = append(got, ga), append(want, wa)
		}
		if o.momentum {
			got, want = append(got, gb), append(want, wb)
		}
		runs = append(runs, run{"rmsprop", got, want})
	}
	runOnHost(t, ls)
	for i, rn := range runs {
		for j := range rn.want {
			closeRel(t, rn.name, rn.got[j], rn.want[j], 1e-5)
		}
		if rn.got[0][0] == p0[0] {
			t.Fatalf("%s run %d did not move the parameters", rn.name, i)
		}
	}
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
