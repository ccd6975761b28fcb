package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
)

// The dropout layer. The masking is the autograd primitive Tape.Dropout;
// this file holds the probability, the generator and the train/eval switch.
// It leaves out Dropout2d, AlphaDropout and in-place dropout.

// Dropout is PyTorch's nn.Dropout(p): in training mode (the default) it
// zeroes each element with probability P and scales the rest by 1/(1-P);
// in evaluation mode, or with P = 0, it is the identity.
//
// Its generator is part of the model's state: the masks of a run depend on
// its seed and on every draw before, so reproducing or resuming a run needs
// the generator's state as well as the weights (a rand.PCG's state is
// saved with its MarshalBinary). Give each Dropout, or each model, its own
// generator; a *rand.Rand is not safe for concurrent use.
type Dropout struct {
	P        float32
	Rng      *rand.Rand
	training bool
}

var (
	_ Module = (*Dropout)(nil)
	_ Moded  = (*Dropout)(nil)
)

// NewDropout returns a Dropout layer drawing its masks from rng, which may
// be nil only when p is 0.
func NewDropout(p float32, rng *rand.Rand) *Dropout {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("nn: dropout probability has to be between 0 and 1, but got %v", p))
	}
	if rng == nil && p > 0 {
		panic("nn: dropout needs a generator")
	}
	return &Dropout{P: p, Rng: rng, training: true}
}

// SetTraining turns dropping on (training) or off (evaluation).
func (d *Dropout) SetTraining(on bool) { d.training = on }

// Training reports whether d is in training mode.
func (d *Dropout) Training() bool { return d.training }

// Forward applies dropout in training mode and returns x itself otherwise.
func (d *Dropout) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	if !d.training || d.P == 0 {
		return x
	}
	return g.Dropout(x, d.P, d.Rng)
}
