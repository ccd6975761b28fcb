package backend

// This file is the CPU backend's batch normalisation, residual sum,
// average and adaptive average pooling and gradient clipping. The batch normalisation
// runs the loops the engine's BatchNorm runs (internal/kernels'
// batchnorm.go), so its bits are the engine's; it leaves out synchronised
// statistics across ranks, which the device path refuses.

import (
	"fmt"
	"math"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

// Add writes y = a + b.
func (*CPU) Add(a, b, y Buffer) {
	MustLen("Add", "b", b.Len(), a.Len())
	MustLen("Add", "y", y.Len(), a.Len())
	as, bs, ys := Floats(a), Floats(b), Floats(y)
	for i, v := range as {
		ys[i] = v + bs[i]
	}
}

func checkBN(op string, p BatchNormParams, x, weight, saved Buffer) {
	if p.N < 1 || p.C < 1 || p.Spatial < 1 {
		panic(fmt.Sprintf("backend: %s: N=%d C=%d spatial=%d", op, p.N, p.C, p.Spatial))
	}
	MustLen(op, "x", x.Len(), p.Len())
	MustLen(op, "saved", saved.Len(), 2*p.C)
	if !weight.IsNil() {
		MustLen(op, "weight", weight.Len(), p.C)
	}
}

// BatchNormForward is autograd's BatchNorm on one rank.
func (*CPU) BatchNormForward(p BatchNormParams, x, weight, bias, runMean, runVar, y, saved Buffer) {
	checkBN("BatchNormForward", p, x, weight, saved)
	MustLen("BatchNormForward", "y", y.Len(), p.Len())
	n, c, spatial := p.N, p.C, p.Spatial
	m := n * spatial
	if p.Training && m <= 1 {
		panic(fmt.Sprintf("backend: BatchNormForward: expected more than 1 value per channel when training, got %d", m))
	}
	if !p.Training && runMean.IsNil() {
		panic("backend: BatchNormForward: evaluation mode needs running statistics")
	}
	st := Floats(saved)
	mean, invstd := st[:c], st[c:]
	xs := Floats(x)
	rm, rv := Floats(runMean), Floats(runVar)
	if p.Training {
		kernels.BatchNormTrainStats(xs, n, c, spatial, p.Eps, p.Momentum, mean, invstd, rm, rv)
	} else {
		kernels.BatchNormEvalStats(rm, rv, p.Eps, mean, invstd)
	}
	kernels.BatchNormNormalize(xs, Floats(y), n, c, spatial, mean, invstd, Floats(weight), Floats(bias))
}

// BatchNormBackward is autograd's batchNormBackward on one rank:
// dbeta = sum(dy), dgamma = sum(dy*xhat), and
// dx = gamma*invstd*(dy - dbeta/m - xhat*dgamma/m) in training
// (gamma*invstd*dy in evaluation).
func (*CPU) BatchNormBackward(p BatchNormParams, x, dy, weight, saved, dx, dw, db Buffer) {
	checkBN("BatchNormBackward", p, x, weight, saved)
	MustLen("BatchNormBackward", "dy", dy.Len(), p.Len())
	st := Floats(saved)
	kernels.BatchNormBackward(Floats(x), Floats(dy), Floats(dx), Floats(dw), Floats(db), Floats(weight), p.N, p.C, p.Spatial,
		st[:p.C], st[p.C:], p.Training, float64(p.N*p.Spatial), nil, false)
}

// AdaptiveAvgPool2dForward calls conv.AdaptiveAvgPool2dForward.
func (*CPU) AdaptiveAvgPool2dForward(p conv.AdaptiveAvgPool2dParams, x, y Buffer) {
	conv.AdaptiveAvgPool2dForward(p, Floats(x), Floats(y))
}

// AdaptiveAvgPool2dBackward calls conv.AdaptiveAvgPool2dBackward.
func (*CPU) AdaptiveAvgPool2dBackward(p conv.AdaptiveAvgPool2dParams, dy, dx Buffer) {
	conv.AdaptiveAvgPool2dBackward(p, Floats(dy), Floats(dx))
}

// AvgPool2dForward calls conv.AvgPool2dForward.
func (*CPU) AvgPool2dForward(p conv.AvgPool2dParams, x, y Buffer) {
	conv.AvgPool2dForward(p, Floats(x), Floats(y))
}

// AvgPool2dBackward calls conv.AvgPool2dBackward.
func (*CPU) AvgPool2dBackward(p conv.AvgPool2dParams, dy, dx Buffer) {
	conv.AvgPool2dBackward(p, Floats(dy), Floats(dx))
}

// ClipGradNorm is optim.ClipGradNorm's L2 case, loop for loop: the squares
// summed in float64, the coefficient in float64, the scaling in float32.
func (*CPU) ClipGradNorm(g Buffer, maxNorm float64) {
	gs := Floats(g)
	var total float64
	for _, v := range gs {
		total += float64(v) * float64(v)
	}
	total = math.Sqrt(total)
	coef := maxNorm / (total + 1e-6)
	if coef < 1 {
		c := float32(coef)
		for i := range gs {
			gs[i] *= c
		}
	}
}
