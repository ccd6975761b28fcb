package kernels

import (
	"math"
	"sync/atomic"
)

// This file holds batch normalisation's loops over a contiguous
// (n, c, spatial) array, shared by the engine (autograd.Tape.BatchNorm)
// and the device backends' CPU implementation, so that both give the
// same bits: moments and gradient sums in float64, the normalisation in
// float32. It leaves out the statistics' synchronisation across ranks,
// which its callers do.

// ChannelMoments returns the mean and biased variance of channel ch of a
// contiguous (n, c, spatial) array, in two float64 passes for accuracy.
// Each pass keeps four running sums (sums4), added pairwise at the end: a
// single chain of dependent float64 additions is bound by their latency.
func ChannelMoments(xs []float32, n, c, spatial, ch int) (mean, variance float64) {
	var s sums4
	for b := 0; b < n; b++ {
		lo := (b*c + ch) * spatial
		s = s.add(xs[lo : lo+spatial])
	}
	m := float64(n * spatial)
	mean = s.total() / m
	var ss sums4
	for b := 0; b < n; b++ {
		lo := (b*c + ch) * spatial
		ss = ss.addSquares(xs[lo:lo+spatial], mean)
	}
	return mean, ss.total() / m
}

// sums4 is four running float64 sums, element i of each slice added to
// sum i%4, so that four chains of additions run at once. Methods take and
// return it by value, which keeps the sums in registers.
type sums4 struct{ a, b, c, d float64 }

func (s sums4) total() float64 { return (s.a + s.b) + (s.c + s.d) }

// add adds the elements of xs.
func (s sums4) add(xs []float32) sums4 {
	arr := [4]float64{s.a, s.b, s.c, s.d}
	done := sums4Add(&arr, xs)
	a, b, c, d := arr[0], arr[1], arr[2], arr[3]
	i := done
	for ; i+4 <= len(xs); i += 4 {
		v := xs[i : i+4 : i+4]
		a += float64(v[0])
		b += float64(v[1])
		c += float64(v[2])
		d += float64(v[3])
	}
	s = sums4{a, b, c, d}
	for k, v := range xs[i:] {
		s = s.addAt(k, float64(v))
	}
	return s
}

// addSquares adds (x-mean)^2 for the elements x of xs.
func (s sums4) addSquares(xs []float32, mean float64) sums4 {
	arr := [4]float64{s.a, s.b, s.c, s.d}
	done := sums4Squares(&arr, xs, mean)
	a, b, c, d := arr[0], arr[1], arr[2], arr[3]
	i := done
	for ; i+4 <= len(xs); i += 4 {
		v := xs[i : i+4 : i+4]
		d0, d1, d2, d3 := float64(v[0])-mean, float64(v[1])-mean, float64(v[2])-mean, float64(v[3])-mean
		// Explicit conversions: no compiler may fuse the product into the sum.
		a += float64(d0 * d0)
		b += float64(d1 * d1)
		c += float64(d2 * d2)
		d += float64(d3 * d3)
	}
	s = sums4{a, b, c, d}
	for k, v := range xs[i:] {
		e := float64(v) - mean
		s = s.addAt(k, float64(e*e))
	}
	return s
}

// addAt adds v to sum k.
func (s sums4) addAt(k int, v float64) sums4 {
	switch k {
	case 0:
		s.a += v
	case 1:
		s.b += v
	case 2:
		s.c += v
	default:
		s.d += v
	}
	return s
}

// BatchNormChannelStats sets channel ch's saved mean and 1/sqrt(var+eps)
// from its batch moments over m values, and, when runMean is not nil,
// moves the running statistics toward the batch's mean and unbiased
// variance: run = (1-momentum)*run + momentum*batch, as PyTorch does.
func BatchNormChannelStats(ch int, mu, variance float64, m int, eps, momentum float32, mean, invstd, runMean, runVar []float32) {
	mean[ch] = float32(mu)
	invstd[ch] = float32(1 / math.Sqrt(variance+float64(eps)))
	if runMean != nil {
		unbiased := variance * float64(m) / float64(m-1)
		mom := float64(momentum)
		runMean[ch] = float32((1-mom)*float64(runMean[ch]) + mom*mu)
		runVar[ch] = float32((1-mom)*float64(runVar[ch]) + mom*unbiased)
	}
}

// BatchNormEvalStats sets the saved mean and 1/sqrt(var+eps) of every
// channel from the running statistics (evaluation mode).
func BatchNormEvalStats(runMean, runVar []float32, eps float32, mean, invstd []float32) {
	for ch := range mean {
		mean[ch] = runMean[ch]
		invstd[ch] = float32(1 / math.Sqrt(float64(runVar[ch])+float64(eps)))
	}
}

// BatchNormTrainStats sets every channel's saved mean and
// 1/sqrt(var+eps) from the batch's moments (ChannelMoments) over its m =
// n*spatial values, and moves the running statistics, when runMean is not
// nil, as BatchNormChannelStats does: the channels split over the
// package's workers, each computed as on its own.
func BatchNormTrainStats(xs []float32, n, c, spatial int, eps, momentum float32, mean, invstd, runMean, runVar []float32) {
	bnRun(&bnArgs{kind: bnStats, xs: xs, n: n, c: c, spatial: spatial, eps: eps, momentum: momentum,
		mean: mean, invstd: invstd, runMean: runMean, runVar: runVar})
}

func bnStatsChannel(t *bnArgs, ch int) {
	mu, v := ChannelMoments(t.xs, t.n, t.c, t.spatial, ch)
	BatchNormChannelStats(ch, mu, v, t.n*t.spatial, t.eps, t.momentum, t.mean, t.invstd, t.runMean, t.runVar)
}

// BatchNormNormalize writes ys = (xs-mean)*invstd*weight + bias per
// channel; weight and bias may be nil (the non-affine form). The channels
// split over the package's workers.
func BatchNormNormalize(xs, ys []float32, n, c, spatial int, mean, invstd, weight, bias []float32) {
	bnRun(&bnArgs{kind: bnNormalize, xs: xs, ys: ys, n: n, c: c, spatial: spatial, mean: mean, invstd: invstd, weight: weight, bias: bias})
}

func bnNormalizeChannel(t *bnArgs, ch int) {
	xs, ys, n, c, spatial := t.xs, t.ys, t.n, t.c, t.spatial
	mean, invstd, weight, bias := t.mean, t.invstd, t.weight, t.bias
	mu, scale, shift := mean[ch], invstd[ch], float32(0)
	if weight != nil {
		scale *= weight[ch]
	}
	if bias != nil {
		shift = bias[ch]
	}
	for b := 0; b < n; b++ {
		lo := (b*c + ch) * spatial
		bnNormalizeRun(ys[lo:lo+spatial], xs[lo:lo+spatial], mu, scale, shift)
	}
}

// bnNormalizeGo writes dst[i] = (src[i]-mu)*scale + shift, each operation
// rounded (the conversion forbids a fused multiply-add).
func bnNormalizeGo(dst, src []float32, mu, scale, shift float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = float32((v-mu)*scale) + shift
	}
}

// bnInputGradGo adds k*((dy[i]-a) - ((x[i]-mu)*is)*b) to out[i], each
// operation rounded, or with into writes it plus +0, which is what adding
// it to a cleared out gives.
func bnInputGradGo(out, x, dy []float32, mu, is, k, a, b float32, into bool) {
	x, dy = x[:len(out)], dy[:len(out)]
	term := func(v, d float32) float32 {
		t := float32(float32((v-mu)*is) * b)
		return float32(k * ((d - a) - t))
	}
	if into {
		for i, v := range x {
			out[i] = term(v, dy[i]) + 0
		}
		return
	}
	for i, v := range x {
		out[i] += term(v, dy[i])
	}
}

// BatchNormBackward adds batch normalisation's gradients, per channel
// with xhat = (x-mean)*invstd over m values per channel:
//
//	db = sum(dy)
//	dw = sum(dy*xhat)
//	dx = w*invstd * (dy - db/m - xhat*dw/m)   (training)
//	dx = w*invstd * dy                        (evaluation)
//
// into dx, dw and db, each nil when not wanted (weight nil: the
// non-affine form). global, when not nil, holds sum(dy) for every channel
// then sum(dy*xhat), summed over the ranks of synchronised statistics;
// the input gradient uses them (and m counts every rank's values), the
// parameters' gradients keep the local sums. With into, the input
// gradient is written into dx, whose contents are ignored, rather than
// added: the bits of adding to a cleared dx, without clearing one. The
// channels split over the package's workers.
func BatchNormBackward(xs, dy, dx, dw, db, weight []float32, n, c, spatial int, mean, invstd []float32, training bool, m float64, global []float64, into bool) {
	bnRun(&bnArgs{kind: bnBackward, xs: xs, dy: dy, dx: dx, dw: dw, db: db, weight: weight, n: n, c: c, spatial: spatial,
		mean: mean, invstd: invstd, training: training, m: m, global: global, into: into})
}

func bnBackwardChannel(t *bnArgs, ch int) {
	xs, dy, dx, dw, db, weight := t.xs, t.dy, t.dx, t.dw, t.db, t.weight
	n, c, spatial, mean, invstd, training, m, global := t.n, t.c, t.spatial, t.mean, t.invstd, t.training, t.m, t.global
	mu, is := mean[ch], invstd[ch]
	var sdy, sdyx float64
	if training || dw != nil || db != nil {
		// Four running sums of each, as ChannelMoments keeps them.
		var s, sx sums4
		for bi := 0; bi < n; bi++ {
			lo := (bi*c + ch) * spatial
			s, sx = gradSums4(s, sx, xs[lo:lo+spatial], dy[lo:lo+spatial], mu, is)
		}
		sdy, sdyx = s.total(), sx.total()
	}
	if dw != nil {
		dw[ch] += float32(sdyx)
	}
	if db != nil {
		db[ch] += float32(sdy)
	}
	if dx == nil {
		return
	}
	k := is
	if weight != nil {
		k *= weight[ch]
	}
	var a, bcoef float32 // dx = k*(dy - a - xhat*bcoef)
	if training {
		if global != nil {
			sdy, sdyx = global[ch], global[c+ch]
		}
		a, bcoef = float32(sdy/m), float32(sdyx/m)
	}
	for bi := 0; bi < n; bi++ {
		lo := (bi*c + ch) * spatial
		bnInputGrad(dx[lo:lo+spatial], xs[lo:lo+spatial], dy[lo:lo+spatial], mu, is, k, a, bcoef, t.into)
	}
}

// gradSums4 adds dy and dy*xhat, xhat = (x-mu)*is, to the running sums
// s and sx, as sums4.add does.
func gradSums4(s, sx sums4, xs, dy []float32, mu, is float32) (sums4, sums4) {
	dy = dy[:len(xs)]
	arr, arrx := [4]float64{s.a, s.b, s.c, s.d}, [4]float64{sx.a, sx.b, sx.c, sx.d}
	i := gradSums4Vec(&arr, &arrx, xs, dy, mu, is)
	a, b, c, d := arr[0], arr[1], arr[2], arr[3]
	ax, bx, cx, dx := arrx[0], arrx[1], arrx[2], arrx[3]
	for ; i+4 <= len(xs); i += 4 {
		v, g := xs[i:i+4:i+4], dy[i:i+4:i+4]
		a += float64(g[0])
		b += float64(g[1])
		c += float64(g[2])
		d += float64(g[3])
		ax += float64(float64(g[0]) * float64((v[0]-mu)*is))
		bx += float64(float64(g[1]) * float64((v[1]-mu)*is))
		cx += float64(float64(g[2]) * float64((v[2]-mu)*is))
		dx += float64(float64(g[3]) * float64((v[3]-mu)*is))
	}
	s, sx = sums4{a, b, c, d}, sums4{ax, bx, cx, dx}
	for k, v := range xs[i:] {
		g := dy[i+k]
		s = s.addAt(k, float64(g))
		sx = sx.addAt(k, float64(float64(g)*float64((v-mu)*is)))
	}
	return s, sx
}

// bnArgs is one batch-normalisation pass: which (kind) and its operands.
type bnArgs struct {
	kind                       int
	xs, ys, dy, dx, dw, db     []float32
	mean, invstd, weight, bias []float32
	runMean, runVar            []float32
	n, c, spatial              int
	eps, momentum              float32
	training                   bool
	into                       bool // the input gradient is written, not added (BatchNormBackward)
	m                          float64
	global                     []float64
}

const (
	bnStats = iota
	bnNormalize
	bnBackward
)

// channel computes channel ch of the pass.
func (a *bnArgs) channel(ch int) {
	switch a.kind {
	case bnStats:
		bnStatsChannel(a, ch)
	case bnNormalize:
		bnNormalizeChannel(a, ch)
	default:
		bnBackwardChannel(a, ch)
	}
}

// bnMinFloats is the smallest pass (n*c*spatial values) worth splitting.
const bnMinFloats = 1 << 14

// bnTasks are the states split passes use (RunShared).
var bnTasks Slots[Shared[bnArgs]]

// bnRun runs every channel of a, split by channels over up to Threads()
// goroutines when the pass is big enough: each channel is computed by one
// goroutine exactly as on its own, so the split leaves no trace in the
// bits.
func bnRun(a *bnArgs) {
	threads := min(Threads(), a.c)
	if a.n*a.c*a.spatial < bnMinFloats {
		threads = 1
	}
	if !RunShared(&bnTasks, a, threads, bnChannels) {
		bnChannels(a, 0, nil)
	}
}

// bnChannels takes channels of a until none is left.
func bnChannels(a *bnArgs, _ int, next *atomic.Int64) {
	for ch := Claim(next, -1); ch < a.c; ch = Claim(next, ch) {
		a.channel(ch)
	}
}
