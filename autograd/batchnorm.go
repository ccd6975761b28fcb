package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/tensor"
)

// Batch normalisation as one primitive: its backward rule in closed form is
// cheaper and more accurate than differentiating through mean, variance and
// square root, and one op keeps the tape short. This file leaves out the
// module (nn.BatchNorm), which owns the parameters and running statistics
// and counts the batches; here the running statistics are plain tensors
// that the forward pass updates in place.

// BatchNorm normalises x of shape (N, C, *) per channel C, like PyTorch's
// F.batch_norm(x, runMean, runVar, weight, bias, training, momentum, eps).
//
// With training set, it normalises with the batch's mean and biased
// variance over every axis but C, and, when runMean and runVar are not nil,
// moves them in place toward the batch's mean and unbiased variance:
// run = (1-momentum)*run + momentum*batch. Without training it normalises
// with runMean and runVar, which must then be given. weight (gamma) and bias
// (beta), each of shape (C), may be nil for the non-affine form.
//
// Means and variances are accumulated in float64. The running statistics
// change even when gradients are disabled, as in PyTorch.
func (g *Tape) BatchNorm(x *Var, runMean, runVar *tensor.Tensor, weight, bias *Var, training bool, momentum, eps float32) *Var {
	if x.value.NDim() < 2 {
		panic(fmt.Sprintf("autograd: batchnorm: input %v, want (N, C, ...)", x.Shape()))
	}
	c := x.value.Dim(1)
	for _, p := range [...]*Var{weight, bias} {
		if p != nil && !p.value.ShapeIs(c) {
			panic(fmt.Sprintf("autograd: batchnorm: parameter %v for %d channels", p.Shape(), c))
		}
	}
	if (runMean == nil) != (runVar == nil) {
		panic("autograd: batchnorm: give both running statistics or neither")
	}
	for _, r := range [...]*tensor.Tensor{runMean, runVar} {
		if r != nil && (!r.ShapeIs(c) || !r.IsContiguous()) {
			panic(fmt.Sprintf("autograd: batchnorm: running statistic %v for %d channels", r.Shape(), c))
		}
	}
	if !training && runMean == nil {
		panic("autograd: batchnorm: evaluation mode needs running statistics")
	}
	n := x.value.Dim(0)
	spatial := x.value.Len() / max(n*c, 1)
	m := n * spatial // values per channel
	if training && m <= 1 {
		panic(fmt.Sprintf("autograd: batchnorm: expected more than 1 value per channel when training, got input %v", x.Shape()))
	}

	y := g.newVar(opBatchNorm, x.Shape(), x, weight, bias)
	// Saved per channel: the mean and 1/sqrt(var+eps) used to normalise.
	stats := g.floats.get(2 * c)
	mean, invstd := stats[:c], stats[c:]
	xs := x.Data()
	synced := training && g.sumStats != nil
	var syncMean, syncVar []float64
	if synced {
		m, syncMean, syncVar = g.syncedMoments(xs, n, c, spatial)
	}
	var rm, rv []float32
	if runMean != nil {
		rm, rv = runMean.Data(), runVar.Data()
	}
	switch {
	case synced:
		for ch := 0; ch < c; ch++ {
			kernels.BatchNormChannelStats(ch, syncMean[ch], syncVar[ch], m, eps, momentum, mean, invstd, rm, rv)
		}
	case training:
		kernels.BatchNormTrainStats(xs, n, c, spatial, eps, momentum, mean, invstd, rm, rv)
	default:
		kernels.BatchNormEvalStats(rm, rv, eps, mean, invstd)
	}
	var ws, bs []float32
	if weight != nil {
		ws = weight.Data()
	}
	if bias != nil {
		bs = bias.Data()
	}
	kernels.BatchNormNormalize(xs, y.Data(), n, c, spatial, mean, invstd, ws, bs)
	if y.requiresGrad {
		y.aux = stats
		if training {
			y.ints[0] = 1
		}
		if synced {
			y.ints[1] = m
		}
	}
	return y
}

// syncedMoments returns the number of values per channel over every
// rank (Tape.SetStatsSum) and each channel's mean and biased variance over
// them, in two passes as kernels.ChannelMoments: the counts and sums, then the
// squares about the global mean.
func (g *Tape) syncedMoments(xs []float32, n, c, spatial int) (int, []float64, []float64) {
	vals := make([]float64, c+1)
	vals[c] = float64(n * spatial)
	for ch := range c {
		for b := 0; b < n; b++ {
			lo := (b*c + ch) * spatial
			for _, v := range xs[lo : lo+spatial] {
				vals[ch] += float64(v)
			}
		}
	}
	g.sumStats(vals)
	total := vals[c]
	if total <= 1 {
		panic(fmt.Sprintf("autograd: batchnorm: expected more than 1 value per channel over the ranks when training, got %v", total))
	}
	mu := make([]float64, c)
	for ch := range c {
		mu[ch] = vals[ch] / total
		vals[ch] = 0
	}
	vals[c] = 0
	for ch := range c {
		for b := 0; b < n; b++ {
			lo := (b*c + ch) * spatial
			for _, v := range xs[lo : lo+spatial] {
				d := float64(v) - mu[ch]
				vals[ch] += d * d
			}
		}
	}
	g.sumStats(vals)
	variance := make([]float64, c)
	for ch := range c {
		variance[ch] = vals[ch] / total
	}
	return int(total), mu, variance
}

// batchNormBackward applies, per channel with xhat = (x-mean)*invstd and
// m values per channel:
//
//	dbeta  = sum(dy)
//	dgamma = sum(dy*xhat)
//	dx     = gamma*invstd * (dy - dbeta/m - xhat*dgamma/m)   (training)
//	dx     = gamma*invstd * dy                               (evaluation)
//
// In training the mean and variance depend on x, which gives the two
// subtracted terms; in evaluation they are constants.
func batchNormBackward(g *Tape, n *Var) {
	x, w, b := n.in[0], n.in[1], n.in[2]
	c := x.value.Dim(1)
	nb := x.value.Dim(0)
	spatial := x.value.Len() / max(nb*c, 1)
	m := float64(nb * spatial)
	training := n.ints[0] == 1
	mean, invstd := n.aux[:c], n.aux[c:]
	var global []float64 // with synced statistics: sum(dy) and sum(dy*xhat) over the ranks
	if n.ints[1] > 0 {
		m = float64(n.ints[1])
		global = syncedGradSums(g, x.Data(), n.grad.Data(), nb, c, spatial, mean, invstd)
	}
	xs, dy := x.Data(), n.grad.Data()
	var dx, dw, db []float32
	into := false
	if n.needs(0) {
		if dx = g.freshGrad(x); dx != nil {
			into = true // the first contribution: written, not added
		} else {
			dx = g.gradOf(x).Data()
		}
	}
	if n.needs(1) {
		dw = g.gradOf(w).Data()
	}
	if n.needs(2) {
		db = g.gradOf(b).Data()
	}
	var ws []float32
	if w != nil {
		ws = w.Data()
	}
	kernels.BatchNormBackward(xs, dy, dx, dw, db, ws, nb, c, spatial, mean, invstd, training, m, global, into)
}

// syncedGradSums returns sum(dy) for every channel, then sum(dy*xhat),
// summed over the ranks: what the input gradient of synchronised batch
// normalisation needs. The parameters' gradients keep the local sums,
// which data-parallel training combines with every other gradient.
func syncedGradSums(g *Tape, xs, dy []float32, nb, c, spatial int, mean, invstd []float32) []float64 {
	vals := make([]float64, 2*c)
	for ch := range c {
		mu, is := mean[ch], invstd[ch]
		for bi := 0; bi < nb; bi++ {
			lo := (bi*c + ch) * spatial
			src, d := xs[lo:lo+spatial], dy[lo:lo+spatial]
			for i, v := range src {
				vals[ch] += float64(d[i])
				vals[c+ch] += float64(d[i]) * float64((v-mu)*is)
			}
		}
	}
	g.sumStats(vals)
	return vals
}
