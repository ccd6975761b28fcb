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
// rng is advanced by one 64-bit draw per two elements, so a run is
// reproducible from rng's state.
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
// 1/(1-p) otherwise, comparing 32-bit uniform integers against p*2^32.
func fillDropoutMask(mask []float32, p float32, rng *rand.Rand) {
	scale := 1 / (1 - p)
	thr := uint64(float64(p) * (1 << 32))
	keep := func(u uint64) float32 {
		if u < thr {
			return 0
		}
		return scale
	}
	i := 0
	for ; i+1 < len(mask); i += 2 {
		r := rng.Uint64()
		mask[i] = keep(r & 0xffffffff)
		mask[i+1] = keep(r >> 32)
	}
	if i < len(mask) {
		mask[i] = keep(rng.Uint64() & 0xffffffff)
	}
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
