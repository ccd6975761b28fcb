package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestElementwiseMatchGo checks the ReLU's and batch normalisation's
// loops (assembly where the CPU has it) against the Go loops, to the bit,
// over every length up to 70 (whole vectors and tails) with NaNs, zeros of
// both signs, infinities and subnormals among the values.
func TestElementwiseMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 0))
	for n := range 71 {
		x, y, dy, acc := stepData(rng, n), stepData(rng, n), stepData(rng, n), stepData(rng, n)
		got, want := make([]float32, n), make([]float32, n)
		ReLU(got, x)
		reluGo(want, x)
		sameBits(t, fmt.Sprint("ReLU, length ", n), got, want, false)

		copy(got, acc)
		copy(want, acc)
		ReLUGradAdd(got, dy, y)
		reluGradGo(want, dy, y, false)
		sameBits(t, fmt.Sprint("ReLUGradAdd, length ", n), got, want, true)

		// Written, not added: the bits of adding to a cleared buffer.
		clear(want)
		ReLUGradAdd(want, dy, y)
		copy(got, acc) // ignored
		ReLUGradInto(got, dy, y)
		sameBits(t, fmt.Sprint("ReLUGradInto, length ", n), got, want, false)

		mu, scale, shift := rng.Float32(), rng.Float32()*3, rng.Float32()-0.5
		bnNormalizeRun(got, x, mu, scale, shift)
		bnNormalizeGo(want, x, mu, scale, shift)
		sameBits(t, fmt.Sprint("batch norm normalise, length ", n), got, want, true)

		copy(got, acc)
		copy(want, acc)
		k, a, b := rng.Float32()*2, rng.Float32()-0.5, rng.Float32()-0.5
		bnInputGrad(got, x, dy, mu, scale, k, a, b, false)
		bnInputGradGo(want, x, dy, mu, scale, k, a, b, false)
		sameBits(t, fmt.Sprint("batch norm input gradient, length ", n), got, want, true)
		clear(want)
		bnInputGrad(want, x, dy, mu, scale, k, a, b, false)
		copy(got, acc)
		bnInputGrad(got, x, dy, mu, scale, k, a, b, true)
		sameBits(t, fmt.Sprint("batch norm input gradient written, length ", n), got, want, false)
		copy(got, acc)
		bnInputGradGo(got, x, dy, mu, scale, k, a, b, true)
		sameBits(t, fmt.Sprint("batch norm input gradient written (Go), length ", n), got, want, true)

		// The four running sums: element i into sum i%4, in order.
		xs := randSlice(rng, n)
		ds := randSlice(rng, n)
		start := sums4{1, 2, 3, 4}
		var wantS, wantSq, wantG, wantGx [4]float64
		wantS, wantSq, wantG, wantGx = [4]float64{1, 2, 3, 4}, [4]float64{1, 2, 3, 4}, [4]float64{1, 2, 3, 4}, [4]float64{1, 2, 3, 4}
		mean := 0.25
		for i, v := range xs {
			wantS[i%4] += float64(v)
			e := float64(v) - mean
			wantSq[i%4] += float64(e * e)
			wantG[i%4] += float64(ds[i])
			wantGx[i%4] += float64(float64(ds[i]) * float64((v-mu)*scale))
		}
		gotS, gotSq := start.add(xs), start.addSquares(xs, mean)
		gotG, gotGx := gradSums4(start, start, xs, ds, mu, scale)
		for name, pair := range map[string][2]sums4{
			"sums":         {gotS, sums4{wantS[0], wantS[1], wantS[2], wantS[3]}},
			"squares":      {gotSq, sums4{wantSq[0], wantSq[1], wantSq[2], wantSq[3]}},
			"dy sums":      {gotG, sums4{wantG[0], wantG[1], wantG[2], wantG[3]}},
			"dy*xhat sums": {gotGx, sums4{wantGx[0], wantGx[1], wantGx[2], wantGx[3]}},
		} {
			if pair[0] != pair[1] {
				t.Fatalf("%s, length %d: %v, element by element %v", name, n, pair[0], pair[1])
			}
		}
	}
}
