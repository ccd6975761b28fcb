package autograd

// This file exports the dropout mask Tape.Dropout draws, for training
// steps that run off the tape (package device) and must drop the same
// elements from the same generator.

import (
	"fmt"
	"math/rand/v2"
)

// FillDropoutMask fills mask exactly as Tape.Dropout would for probability
// p with rng in the same state: each element 0 with probability p and
// 1/(1-p) otherwise. 0 < p < 1 takes one 64-bit draw from rng; p = 1 gives
// zeros and p = 0 ones, taking none.
func FillDropoutMask(mask []float32, p float32, rng *rand.Rand) {
	switch {
	case !(p >= 0 && p <= 1):
		panic(fmt.Sprintf("autograd: dropout probability %v, want it in [0, 1]", p))
	case p == 0:
		for i := range mask {
			mask[i] = 1
		}
	case p == 1:
		clear(mask)
	default:
		fillDropoutMask(mask, p, rng)
	}
}
