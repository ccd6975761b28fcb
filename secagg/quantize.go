package secagg

// This file holds the quantisation of updates as Flower's SecAgg+ does it
// (flwr.common.secure_aggregation.quantization): clip to [-c, c], map
// linearly onto [0, R] and round stochastically; sums are taken modulo
// 2^32 (uint32 arithmetic) and mapped back with n clients' offsets.

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Quantization holds Flower's SecAgg+ settings; the modulus is 2^32.
type Quantization struct {
	ClippingRange float64 // c: values are clipped to [-c, c]; Flower's default 8
	TargetRange   uint32  // R: [-c, c] maps onto [0, R]; Flower's default 2^22
}

// FlowerQuantization returns Flower's defaults: c = 8, R = 2^22.
func FlowerQuantization() Quantization {
	return Quantization{ClippingRange: 8, TargetRange: 1 << 22}
}

// Quantize maps x onto integers in [0, R], rounding up with probability
// equal to the fractional part (draws from rng), as Flower's
// _stochastic_round does.
func (q Quantization) Quantize(x []float32, rng *rand.Rand) []uint32 {
	c := q.ClippingRange
	scale := float64(q.TargetRange) / (2 * c)
	out := make([]uint32, len(x))
	for i, v := range x {
		p := scale * (math.Max(-c, math.Min(c, float64(v))) + c)
		r := math.Ceil(p)
		if rng.Float64() < r-p {
			r--
		}
		out[i] = uint32(r)
	}
	return out
}

// DequantizeSum maps a modular sum of n clients' quantised vectors back to
// the sum of their (clipped) values. n*R must stay below 2^32, which
// MaxClients checks.
func (q Quantization) DequantizeSum(sum []uint32, n int) []float64 {
	if n < 1 || n > q.MaxClients() {
		panic(fmt.Sprintf("secagg: dequantising a sum of %d clients; at most %d fit the modulus", n, q.MaxClients()))
	}
	step := 2 * q.ClippingRange / float64(q.TargetRange)
	out := make([]float64, len(sum))
	for i, v := range sum {
		out[i] = float64(v)*step - float64(n)*q.ClippingRange
	}
	return out
}

// MaxClients returns how many clients' values can be summed before the sum
// wraps the modulus 2^32.
func (q Quantization) MaxClients() int {
	return int((1<<32 - 1) / uint64(q.TargetRange))
}
