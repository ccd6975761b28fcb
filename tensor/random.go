package tensor

import "math/rand/v2"

// This file holds random initialisation. It leaves out the named schemes
// (Kaiming, Xavier), which need fan-in and belong with the layers.

// Uniform fills t with values drawn uniformly from [lo, hi) using r.
func (t *Tensor) Uniform(r *rand.Rand, lo, hi float32) *Tensor {
	t.each(func(o int) { t.data[o] = lo + (hi-lo)*r.Float32() })
	return t
}

// Normal fills t with values drawn from N(mean, std^2) using r.
func (t *Tensor) Normal(r *rand.Rand, mean, std float32) *Tensor {
	t.each(func(o int) { t.data[o] = mean + std*float32(r.NormFloat64()) })
	return t
}
