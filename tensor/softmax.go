package tensor

import "math"

// This file holds the numerically stable softmax family: every row is
// shifted by its maximum before exponentiation, and sums accumulate in
// float64. A 0-d source is treated as shape (1,), as in PyTorch. It leaves
// out masking: callers write -Inf into the positions to exclude.

// Softmax sets dst = exp(src) / sum(exp(src)) over axis. As in PyTorch, a
// row holding NaN or +Inf, or only -Inf, comes out all NaN. dst may be src.
func Softmax(dst, src *Tensor, axis int) *Tensor { return softmax(dst, src, axis, false) }

// LogSoftmax sets dst = src - logsumexp(src) over axis, with the same
// special rows as Softmax. dst may be src.
func LogSoftmax(dst, src *Tensor, axis int) *Tensor { return softmax(dst, src, axis, true) }

func softmax(dst, src *Tensor, axis int, logOut bool) *Tensor {
	axis = src.reduceAxis(axis)
	dst = dest(dst, src.Shape(), "softmax")
	if !dst.IsContiguous() {
		panic("tensor: softmax into a non-contiguous destination")
	}
	checkAlias("softmax", dst, src)
	src = Contiguous(nil, src)
	outer, n, inner := src.reduceDims(axis)
	s, d := src.Data(), dst.Data()
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*n*inner + j
			// Unlike LogSumExp, an infinite max is not special-cased:
			// x - max is then NaN somewhere and the row is NaN, as in
			// PyTorch.
			m := float64(rowMax(s, base, n, inner))
			if logOut {
				var sum float64
				for k := 0; k < n; k++ {
					sum += math.Exp(float64(s[base+k*inner]) - m)
				}
				lse := m + math.Log(sum)
				for k := 0; k < n; k++ {
					d[base+k*inner] = float32(float64(s[base+k*inner]) - lse)
				}
				continue
			}
			// One exp per element: park exp(x - max) in dst, then scale.
			// Each element is read before it is overwritten, so dst may
			// be src.
			var sum float64
			for k := 0; k < n; k++ {
				e := float32(math.Exp(float64(s[base+k*inner]) - m))
				d[base+k*inner] = e
				sum += float64(e)
			}
			inv := float32(1 / sum)
			for k := 0; k < n; k++ {
				d[base+k*inner] *= inv
			}
		}
	}
	return dst
}

// rowMax returns the maximum of a strided row, NaN if it holds one, and -Inf
// for an empty row.
func rowMax(s []float32, base, n, stride int) float32 {
	m := float32(math.Inf(-1))
	for k := 0; k < n; k++ {
		if v := s[base+k*stride]; v > m || v != v {
			m = v
			if v != v {
				break
			}
		}
	}
	return m
}

// LogSumExp sets dst = log(sum(exp(src))) over axis, computed stably. As in
// torch.logsumexp, an infinite maximum is not subtracted, so a row of only
// -Inf (or an empty row) gives -Inf and a row holding +Inf gives +Inf.
func LogSumExp(dst, src *Tensor, axis int, keepdim bool) *Tensor {
	axis = src.reduceAxis(axis)
	shape, nd := src.reducedShape(axis, keepdim)
	dst = dest(dst, shape[:nd], "logsumexp")
	if !dst.IsContiguous() {
		panic("tensor: logsumexp into a non-contiguous destination")
	}
	if overlaps(dst, src) {
		panic("tensor: logsumexp into a destination that overlaps its source")
	}
	src = Contiguous(nil, src)
	outer, n, inner := src.reduceDims(axis)
	s, d := src.Data(), dst.Data()
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*n*inner + j
			m := float64(rowMax(s, base, n, inner))
			if math.IsInf(m, 0) {
				m = 0
			}
			var sum float64
			for k := 0; k < n; k++ {
				sum += math.Exp(float64(s[base+k*inner]) - m)
			}
			d[o*inner+j] = float32(m + math.Log(sum))
		}
	}
	return dst
}
