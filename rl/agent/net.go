package agent

// This file holds the networks: multilayer perceptrons with PyTorch's
// state_dict names, the actor-critic pair of SB3's MlpPolicy (separate
// policy and value networks) and orthogonal initialisation. It leaves out
// shared feature extractors and CNN policies.

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// MLP returns in -> hidden... -> out as Linear layers with act between
// them, named as torch.nn.Sequential names them. Weights are orthogonal
// with gain sqrt(2) on hidden layers and outGain on the last, biases zero:
// SB3's initialisation of its policies.
func MLP(in int, hidden []int, out int, act string, outGain float64, rng *rand.Rand) *nn.Sequential {
	var layers []nn.Module
	prev := in
	for _, h := range hidden {
		l := nn.NewLinear(prev, h, true, rng)
		orthogonal(l.Weight.Value(), math.Sqrt2, rng)
		l.Bias.Value().Fill(0)
		layers = append(layers, l, activation(act))
		prev = h
	}
	l := nn.NewLinear(prev, out, true, rng)
	orthogonal(l.Weight.Value(), outGain, rng)
	l.Bias.Value().Fill(0)
	return nn.NewSequential(append(layers, l)...)
}

func activation(name string) nn.Module {
	switch name {
	case "tanh":
		return nn.NewTanh()
	case "relu":
		return nn.NewReLU()
	}
	panic(fmt.Sprintf("agent: activation %q", name))
}

// orthogonal fills the (rows, cols) matrix w with a random orthogonal one
// times gain, as torch.nn.init.orthogonal_: the Q of the QR decomposition
// of a Gaussian matrix, with R's diagonal made positive.
func orthogonal(w *tensor.Tensor, gain float64, rng *rand.Rand) {
	rows, cols := w.Dim(0), w.Dim(1)
	// Gram-Schmidt on the columns of a tall (n, k) matrix gives the QR's Q
	// with a positive diagonal of R.
	n, k := rows, cols
	if rows < cols {
		n, k = cols, rows
	}
	a := make([]float64, n*k) // column-major: column j is a[j*n:(j+1)*n]
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for j := range k {
		cj := a[j*n : (j+1)*n]
		for range 2 { // re-orthogonalise once for accuracy
			for p := range j {
				cp := a[p*n : (p+1)*n]
				var dot float64
				for i := range cj {
					dot += cp[i] * cj[i]
				}
				for i := range cj {
					cj[i] -= dot * cp[i]
				}
			}
		}
		var norm float64
		for _, v := range cj {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for i := range cj {
			cj[i] /= norm
		}
	}
	d := w.Data()
	for r := range rows {
		for c := range cols {
			if rows >= cols {
				d[r*cols+c] = float32(gain * a[c*n+r])
			} else {
				d[r*cols+c] = float32(gain * a[r*n+c])
			}
		}
	}
}

// ActorCritic is SB3's MlpPolicy for discrete actions: a policy network
// from observations to action logits and a separate value network, each
// with its own hidden layers. Its state_dict names are "pi.<i>.weight" and
// "vf.<i>.weight".
type ActorCritic struct {
	Pi *nn.Sequential
	VF *nn.Sequential
}

var _ nn.Container = (*ActorCritic)(nil)

// NewActorCritic returns the two networks initialised as SB3 does: gain
// 0.01 on the policy's last layer, 1 on the value's.
func NewActorCritic(obs, actions int, hidden []int, act string, rng *rand.Rand) *ActorCritic {
	return &ActorCritic{Pi: MLP(obs, hidden, actions, act, 0.01, rng), VF: MLP(obs, hidden, 1, act, 1, rng)}
}

// Forward returns the action logits.
func (m *ActorCritic) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return m.Pi.Forward(g, x)
}

// Children names the two networks.
func (m *ActorCritic) Children() []nn.Child {
	return []nn.Child{{Name: "pi", Module: m.Pi}, {Name: "vf", Module: m.VF}}
}
