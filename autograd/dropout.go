package autograd

import (
	"fmt"
	"math/rand/v2"
)

// Inverted dropout as a primitive that saves its mask. This file leaves out
// the training/evaluation switch, which belongs to the module (nn.Dropout):
// the op always drops.

// Dropout zeroes each element of x independently with probability p, drawn
// from rng, and scales the others by 1/(1-p), so that the expected value is
// unchanged (PyTorch's F.dropout with training=True). p = 0 returns x
// itself; p = 1 returns zeros. The gradient flows through the same mask.
//
// A call with 0 < p < 1 takes exactly one 64-bit draw from rng (p = 0 and
// p = 1 take none), so a run is reproducible from rng's state.
func (g *Tape) Dropout(x *Var, p float32, rng *rand.Rand) *Var {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("autograd: dropout probability %v, want it in [0, 1]", p))
	}
	if p == 0 {
		return x
	}
	y := g.newVar(opDropout, x.Shape(), x)
	mask := g.floats.get(x.value.Len())
	if p == 1 {
		clear(mask)
	} else {
		fillDropoutMask(mask, p, rng)
	}
	xs, ys := x.Data(), y.Data()
	for i, k := range mask {
		ys[i] = xs[i] * k
	}
	if y.requiresGrad {
		y.aux = mask
	}
	return y
}

// fillDropoutMask sets each element of mask to 0 with probability p and to
// 1/(1-p) otherwise, comparing 32-bit uniform integers against p*2^32. The
// integers come from a SplitMix64 stream seeded by one draw from rng, which
// inlines where rng would cost a call through its Source per pair of
// elements; the mask stays a function of rng's state.
func fillDropoutMask(mask []float32, p float32, rng *rand.Rand) {
	scale := 1 / (1 - p)
	thr := uint64(float64(p) * (1 << 32))
	s := rng.Uint64()
	i := 0
	for ; i+1 < len(mask); i += 2 {
		r := splitMix64(&s)
		a, b := float32(0), float32(0)
		if r&0xffffffff >= thr {
			a = scale
		}
		if r>>32 >= thr {
			b = scale
		}
		mask[i], mask[i+1] = a, b
	}
	if i < len(mask) {
		if splitMix64(&s)&0xffffffff >= thr {
			mask[i] = scale
		} else {
			mask[i] = 0
		}
	}
}

// splitMix64 advances the state s and returns the next value of Steele,
// Lea and Flood's SplitMix64 generator.
func splitMix64(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func dropoutBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	dx, dy := g.gradOf(x).Data(), n.grad.Data()
	for i, k := range n.aux {
		dx[i] += dy[i] * k
	}
}
