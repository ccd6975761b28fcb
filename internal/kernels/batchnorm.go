package kernels

import "math"

// This file holds batch normalisation's loops over a contiguous
// (n, c, spatial) array, shared by the engine (autograd.Tape.BatchNorm)
// and the device backends' CPU implementation, so that both give the
// same bits: moments and gradient sums in float64, the normalisation in
// float32. It leaves out the statistics' synchronisation across ranks,
// which its callers do.

// ChannelMoments returns the mean and biased variance of channel ch of a
// contiguous (n, c, spatial) array, in two float64 passes for accuracy.
func ChannelMoments(xs []float32, n, c, spatial, ch int) (mean, variance float64) {
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

// BatchNormNormalize writes ys = (xs-mean)*invstd*weight + bias per
// channel; weight and bias may be nil (the non-affine form).
func BatchNormNormalize(xs, ys []float32, n, c, spatial int, mean, invstd, weight, bias []float32) {
	for ch := 0; ch < c; ch++ {
		mu, scale, shift := mean[ch], invstd[ch], float32(0)
		if weight != nil {
			scale *= weight[ch]
		}
		if bias != nil {
			shift = bias[ch]
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
// parameters' gradients keep the local sums.
func BatchNormBackward(xs, dy, dx, dw, db, weight []float32, n, c, spatial int, mean, invstd []float32, training bool, m float64, global []float64) {
	for ch := 0; ch < c; ch++ {
		mu, is := mean[ch], invstd[ch]
		var sdy, sdyx float64
		if training || dw != nil || db != nil {
			for bi := 0; bi < n; bi++ {
				lo := (bi*c + ch) * spatial
				src, d := xs[lo:lo+spatial], dy[lo:lo+spatial]
				for i, v := range src {
					sdy += float64(d[i])
					sdyx += float64(d[i]) * float64((v-mu)*is)
				}
			}
		}
		if dw != nil {
			dw[ch] += float32(sdyx)
		}
		if db != nil {
			db[ch] += float32(sdy)
		}
		if dx == nil {
			continue
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
			src, d, out := xs[lo:lo+spatial], dy[lo:lo+spatial], dx[lo:lo+spatial]
			for i, v := range src {
				out[i] += k * (d[i] - a - (v-mu)*is*bcoef)
			}
		}
	}
}
