package conv

// This file checks every backward kernel against central finite differences
// of the float64 reference forward pass, through the loss sum(y*r) for a
// random r: the backward kernels must be the derivative of the forward
// semantics, not merely agree with a second hand-written adjoint.

import (
	"math/rand/v2"
	"testing"
)

// numGrad returns the central-difference gradient of loss at x, perturbing
// x in place and restoring it.
func numGrad(loss func() float64, x []float64, eps float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		v := x[i]
		x[i] = v + eps
		up := loss()
		x[i] = v - eps
		down := loss()
		x[i] = v
		g[i] = (up - down) / (2 * eps)
	}
	return g
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestConv2dFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 0))
	for _, c := range []struct {
		name string
		p    Conv2dParams
		relu bool
	}{
		{"strided dilated grouped", cp(2, 4, 5, 6, 4, 3, 2, stride(2, 1), pad(1, 1), dil(1, 2), groups(2)), false},
		{"pointwise", cp(1, 3, 3, 4, 2, 1, 1), false},
		{"chunked padded", cp(3, 2, 4, 4, 3, 3, 3, pad(2, 1)), false},
		{"fused relu", cp(2, 3, 5, 4, 4, 3, 3, pad(1, 1)), true},
	} {
		p := c.p
		x32 := randF32(r, p.N*p.C*p.H*p.W)
		w32 := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		b32 := randF32(r, p.OutC)
		r32 := randF32(r, p.N*p.OutC*p.OutH()*p.OutW())
		x, w, b, rr := f64(x32), f64(w32), f64(b32), f64(r32)
		loss := func() float64 {
			y := refConvForward(p, x, w, b)
			if c.relu {
				for i, v := range y {
					y[i] = max(v, 0)
				}
			}
			return dot(y, rr)
		}
		ws := make([]float32, p.WorkspaceLen())
		dy := append([]float32(nil), r32...)
		if c.relu {
			y := make([]float32, len(dy))
			Conv2dForwardReLU(p, x32, w32, b32, y, ws)
			ReLUMaskGrad(y, dy)
		}
		dx := make([]float32, len(x32))
		dw := make([]float32, len(w32))
		db := make([]float32, len(b32))
		Conv2dBackwardData(p, dy, w32, dx, ws)
		Conv2dBackwardWeight(p, x32, dy, dw, db, ws)
		const eps = 1e-4
		assertClose(t, c.name+" dx", dx, numGrad(loss, x, eps), 1e-4)
		assertClose(t, c.name+" dw", dw, numGrad(loss, w, eps), 1e-4)
		assertClose(t, c.name+" dbias", db, numGrad(loss, b, eps), 1e-4)
	}
}

func TestPoolFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 0))
	const eps = 1e-6
	for _, p := range []MaxPool2dParams{
		mp(2, 2, 6, 5, 2, 2, 2, 2, 0, 0, 1, 1, false),
		mp(1, 2, 7, 6, 3, 2, 2, 1, 1, 1, 2, 1, true),
		mp(2, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, false),
	} {
		x32 := randF32(r, p.N*p.C*p.H*p.W)
		r32 := randF32(r, p.N*p.C*p.OutH()*p.OutW())
		x, rr := f64(x32), f64(r32)
		loss := func() float64 { y, _ := refMaxPool(p, x); return dot(y, rr) }
		y, idx := make([]float32, len(r32)), make([]int32, len(r32))
		MaxPool2dForward(p, x32, y, idx)
		dx := make([]float32, len(x32))
		MaxPool2dBackward(p, r32, idx, dx)
		assertClose(t, "max pool dx", dx, numGrad(loss, x, eps), 1e-4)
	}
	for _, p := range []AvgPool2dParams{
		ap(2, 2, 6, 5, 2, 2, 0, false, false, 0),
		ap(1, 2, 7, 6, 3, 2, 1, true, false, 0),
		ap(1, 2, 7, 6, 3, 2, 1, true, true, 0),
		ap(2, 1, 5, 5, 3, 1, 1, false, false, 5),
	} {
		x32 := randF32(r, p.N*p.C*p.H*p.W)
		r32 := randF32(r, p.N*p.C*p.OutH()*p.OutW())
		x, rr := f64(x32), f64(r32)
		loss := func() float64 { y, _ := refAvgPool(p, x); return dot(y, rr) }
		dx := make([]float32, len(x32))
		AvgPool2dBackward(p, r32, dx)
		assertClose(t, "avg pool dx", dx, numGrad(loss, x, eps), 1e-4)
	}
	for _, p := range []AdaptiveAvgPool2dParams{
		{N: 2, C: 2, H: 7, W: 5, OutH: 3, OutW: 2},
		{N: 1, C: 2, H: 3, W: 4, OutH: 5, OutW: 6},
	} {
		x32 := randF32(r, p.N*p.C*p.H*p.W)
		r32 := randF32(r, p.N*p.C*p.OutH*p.OutW)
		x, rr := f64(x32), f64(r32)
		loss := func() float64 { y, _ := refAdaptive(p, x, nil); return dot(y, rr) }
		dx := make([]float32, len(x32))
		AdaptiveAvgPool2dBackward(p, r32, dx)
		assertClose(t, "adaptive pool dx", dx, numGrad(loss, x, eps), 1e-4)
	}
}
