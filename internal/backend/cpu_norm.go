package backend

// This file is the CPU backend's batch normalisation, residual sum,
// adaptive average pooling and gradient clipping. The batch normalisation repeats autograd's
// BatchNorm and batchNormBackward loop for loop (float64 moments and
// sums, the same float32 roundings), so its bits are the engine's; it
// leaves out synchronised statistics across ranks, which the device path
// refuses.

import (
	"fmt"
	"math"

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
	eps := p.Eps
	if p.Training {
		for ch := 0; ch < c; ch++ {
			mu, v := channelMoments(xs, n, c, spatial, ch)
			mean[ch] = float32(mu)
			invstd[ch] = float32(1 / math.Sqrt(v+float64(eps)))
			if rm != nil {
				unbiased := v * float64(m) / float64(m-1)
				mom := float64(p.Momentum)
				rm[ch] = float32((1-mom)*float64(rm[ch]) + mom*mu)
				rv[ch] = float32((1-mom)*float64(rv[ch]) + mom*unbiased)
			}
		}
	} else {
		for ch := 0; ch < c; ch++ {
			mean[ch] = rm[ch]
			invstd[ch] = float32(1 / math.Sqrt(float64(rv[ch])+float64(eps)))
		}
	}
	ys, ws, bs := Floats(y), Floats(weight), Floats(bias)
	for ch := 0; ch < c; ch++ {
		mu, scale, shift := mean[ch], invstd[ch], float32(0)
		if ws != nil {
			scale *= ws[ch]
		}
		if bs != nil {
			shift = bs[ch]
		}
		for b := 0; b < n; b++ {
			lo := (b*c + ch) * spatial
			dst, src := ys[lo:lo+spatial], xs[lo:lo+spatial]
			for i, v := range src {
				dst[i] = (v-mu)*scale + shift
			}
		}
	}
}

// channelMoments returns the mean and biased variance of channel ch of a
// contiguous (n, c, spatial) array, in two float64 passes, as autograd's.
func channelMoments(xs []float32, n, c, spatial, ch int) (mean, variance float64) {
	var s float64
	for b := 0; b < n; b++ {
		lo := (b*c + ch) * spatial
		for _, v := range xs[lo : lo+spatial] {
			s += float64(v)
		}
	}
	m := float64(n * spatial)
	mean = s / m
	var ss float64
	for b := 0; b < n; b++ {
		lo := (b*c + ch) * spatial
		for _, v := range xs[lo : lo+spatial] {
			d := float64(v) - mean
			ss += d * d
		}
	}
	return mean, ss / m
}

// BatchNormBackward is autograd's batchNormBackward on one rank:
// dbeta = sum(dy), dgamma = sum(dy*xhat), and
// dx = gamma*invstd*(dy - dbeta/m - xhat*dgamma/m) in training
// (gamma*invstd*dy in evaluation).
func (*CPU) BatchNormBackward(p BatchNormParams, x, dy, weight, saved, dx, dw, db Buffer) {
	checkBN("BatchNormBackward", p, x, weight, saved)
	MustLen("BatchNormBackward", "dy", dy.Len(), p.Len())
	n, c, spatial := p.N, p.C, p.Spatial
	m := float64(n * spatial)
	st := Floats(saved)
	mean, invstd := st[:c], st[c:]
	xs, d := Floats(x), Floats(dy)
	gx, gw, gb, ws := Floats(dx), Floats(dw), Floats(db), Floats(weight)
	for ch := 0; ch < c; ch++ {
		mu, is := mean[ch], invstd[ch]
		var sdy, sdyx float64
		if p.Training || gw != nil || gb != nil {
			for bi := 0; bi < n; bi++ {
				lo := (bi*c + ch) * spatial
				src, dd := xs[lo:lo+spatial], d[lo:lo+spatial]
				for i, v := range src {
					sdy += float64(dd[i])
					sdyx += float64(dd[i]) * float64((v-mu)*is)
				}
			}
		}
		if gw != nil {
			gw[ch] += float32(sdyx)
		}
		if gb != nil {
			gb[ch] += float32(sdy)
		}
		if gx == nil {
			continue
		}
		k := is
		if ws != nil {
			k *= ws[ch]
		}
		var a, bcoef float32
		if p.Training {
			a, bcoef = float32(sdy/m), float32(sdyx/m)
		}
		for bi := 0; bi < n; bi++ {
			lo := (bi*c + ch) * spatial
			src, dd, out := xs[lo:lo+spatial], d[lo:lo+spatial], gx[lo:lo+spatial]
			for i, v := range src {
				out[i] += k * (dd[i] - a - (v-mu)*is*bcoef)
			}
		}
	}
}

// AdaptiveAvgPool2dForward calls conv.AdaptiveAvgPool2dForward.
func (*CPU) AdaptiveAvgPool2dForward(p conv.AdaptiveAvgPool2dParams, x, y Buffer) {
	conv.AdaptiveAvgPool2dForward(p, Floats(x), Floats(y))
}

// AdaptiveAvgPool2dBackward calls conv.AdaptiveAvgPool2dBackward.
func (*CPU) AdaptiveAvgPool2dBackward(p conv.AdaptiveAvgPool2dParams, dy, dx Buffer) {
	conv.AdaptiveAvgPool2dBackward(p, Floats(dy), Floats(dx))
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
