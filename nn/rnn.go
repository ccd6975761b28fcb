package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// The recurrent layers RNN, LSTM and GRU, which share everything but their
// cell (PyTorch's RNNBase). Each layer and direction is one Linear for the
// input projection of all time steps followed by the Tape.Recurrent
// primitive, which loops over time. This file leaves out LSTM projections
// (proj_size), PackedSequence objects (variable lengths are a []int
// instead) and the single-step cells (RNNCell, LSTMCell, GRUCell).

// RecurrentConfig holds the constructor arguments of RNN, LSTM and GRU
// under PyTorch's meanings. The zero value of every optional field matches
// PyTorch's default.
type RecurrentConfig struct {
	InputSize, HiddenSize int
	NumLayers             int    // stacked layers; 0 means 1
	Nonlinearity          string // RNN only: "tanh" (or "") or "relu"
	NoBias                bool   // drops bias_ih and bias_hh (PyTorch's bias=False)
	BatchFirst            bool   // input and output are (B, T, features) instead of (T, B, features)
	Bidirectional         bool
	// Dropout is the probability of zeroing each element of every layer's
	// output but the last, in training mode only. DropoutRng draws the
	// masks; it is required when Dropout > 0 (see Dropout for why a layer
	// owns its generator).
	Dropout    float32
	DropoutRng *rand.Rand
}

// RecurrentWeights are the parameters of one layer and direction, in
// PyTorch's layout: the gate blocks (LSTM i, f, g, o; GRU r, z, n) stacked
// along the rows.
type RecurrentWeights struct {
	WeightIH *autograd.Var // (G*HiddenSize, layer input size)
	WeightHH *autograd.Var // (G*HiddenSize, HiddenSize)
	BiasIH   *autograd.Var // (G*HiddenSize), nil with NoBias
	BiasHH   *autograd.Var // (G*HiddenSize), nil with NoBias
}

// Recurrent is the machinery RNN, LSTM and GRU share. Its state_dict
// entries are weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k} and
// bias_hh_l{k} for each layer k, with the suffix "_reverse" for the
// backward direction, in PyTorch's order.
//
// Shapes, with D = 2 when bidirectional and 1 otherwise: the input is
// (T, B, InputSize), or (B, T, InputSize) with BatchFirst, or (T,
// InputSize) unbatched; the output is the same with D*HiddenSize features;
// the states h_n and c_n are (NumLayers*D, B, HiddenSize), or
// (NumLayers*D, HiddenSize) unbatched, whatever BatchFirst says.
type Recurrent struct {
	Config  RecurrentConfig
	Cell    autograd.Cell
	Weights []RecurrentWeights // layer k, direction d at k*D + d
	// training switches the dropout between layers on; it starts on, as
	// a PyTorch module does.
	training bool
}

// RecurrentState holds the optional inputs of Run.
type RecurrentState struct {
	// H0 and C0 (LSTM only) are the initial states, shaped like h_n and
	// c_n; nil means zeros. Gradients flow into them.
	H0, C0 *autograd.Var
	// Lengths holds the number of valid time steps of each batch element,
	// each in [1, T], in any order; nil means T for all. It does what
	// pack_padded_sequence(x, lengths, enforce_sorted=False) does in
	// PyTorch: each element's steps past its length are ignored, its
	// output there is zero (as pad_packed_sequence(..., total_length=T)
	// gives), its h_n and c_n are its states at its last valid step, and the
	// backward direction of a bidirectional layer starts at that step.
	// Padding values in x change nothing as long as they are finite (the
	// input projection still multiplies them, by zero gradients in
	// backward). Unbatched input takes no lengths.
	Lengths []int
}

// RNN is PyTorch's nn.RNN, an Elman network: h' = act(W_ih x + b_ih +
// W_hh h + b_hh) with act tanh or relu.
type RNN struct{ Recurrent }

// LSTM is PyTorch's nn.LSTM: gates i, f, g, o; c' = f*c + i*g and
// h' = o*tanh(c').
type LSTM struct{ Recurrent }

// GRU is PyTorch's nn.GRU: gates r, z, n with n = tanh(W_in x + b_in +
// r*(W_hn h + b_hn)) and h' = (1-z)*n + z*h.
type GRU struct{ Recurrent }

var (
	_ Module      = (*RNN)(nil)
	_ ParamHolder = (*LSTM)(nil)
	_ Moded       = (*GRU)(nil)
)

// NewRNN returns an RNN with every parameter drawn from
// U(-1/sqrt(HiddenSize), 1/sqrt(HiddenSize)) by rng, as PyTorch does.
func NewRNN(cfg RecurrentConfig, rng *rand.Rand) *RNN {
	cell := autograd.CellTanh
	switch cfg.Nonlinearity {
	case "", "tanh":
	case "relu":
		cell = autograd.CellReLU
	default:
		panic(fmt.Sprintf("nn: unknown nonlinearity %q, want \"tanh\" or \"relu\"", cfg.Nonlinearity))
	}
	return &RNN{newRecurrent(cell, cfg, rng)}
}

// NewLSTM returns an LSTM initialised as NewRNN is.
func NewLSTM(cfg RecurrentConfig, rng *rand.Rand) *LSTM {
	return &LSTM{newRecurrent(autograd.CellLSTM, cfg, rng)}
}

// NewGRU returns a GRU initialised as NewRNN is.
func NewGRU(cfg RecurrentConfig, rng *rand.Rand) *GRU {
	return &GRU{newRecurrent(autograd.CellGRU, cfg, rng)}
}

func newRecurrent(cell autograd.Cell, cfg RecurrentConfig, rng *rand.Rand) Recurrent {
	cfg.NumLayers = max(cfg.NumLayers, 1)
	if cfg.InputSize <= 0 || cfg.HiddenSize <= 0 {
		panic(fmt.Sprintf("nn: %v with input_size %d, hidden_size %d", cell, cfg.InputSize, cfg.HiddenSize))
	}
	if cfg.Nonlinearity != "" && cell != autograd.CellTanh && cell != autograd.CellReLU {
		panic(fmt.Sprintf("nn: %v takes no nonlinearity", cell))
	}
	if !(cfg.Dropout >= 0 && cfg.Dropout <= 1) {
		panic(fmt.Sprintf("nn: dropout should be a number in range [0, 1], got %v", cfg.Dropout))
	}
	if cfg.Dropout > 0 && cfg.DropoutRng == nil {
		panic("nn: recurrent dropout needs a DropoutRng")
	}
	r := Recurrent{Config: cfg, Cell: cell, training: true}
	D, H, G := r.dirs(), cfg.HiddenSize, cell.Gates()
	bound := 1 / math.Sqrt(float64(H))
	param := func(shape ...int) *autograd.Var {
		return autograd.NewVar(Uniform(tensor.New(shape...), -bound, bound, rng), true)
	}
	for k := range cfg.NumLayers {
		in := cfg.InputSize
		if k > 0 {
			in = D * H
		}
		for range D {
			w := RecurrentWeights{WeightIH: param(G*H, in), WeightHH: param(G*H, H)}
			if !cfg.NoBias {
				w.BiasIH, w.BiasHH = param(G*H), param(G*H)
			}
			r.Weights = append(r.Weights, w)
		}
	}
	return r
}

func (r *Recurrent) dirs() int {
	if r.Config.Bidirectional {
		return 2
	}
	return 1
}

// OwnParams returns the weights under PyTorch's state_dict names.
func (r *Recurrent) OwnParams() []Param {
	D := r.dirs()
	ps := make([]Param, 0, 4*len(r.Weights))
	for i, w := range r.Weights {
		sfx := fmt.Sprintf("_l%d", i/D)
		if i%D == 1 {
			sfx += "_reverse"
		}
		ps = append(ps, Param{Name: "weight_ih" + sfx, Var: w.WeightIH}, Param{Name: "weight_hh" + sfx, Var: w.WeightHH})
		if w.BiasIH != nil {
			ps = append(ps, Param{Name: "bias_ih" + sfx, Var: w.BiasIH}, Param{Name: "bias_hh" + sfx, Var: w.BiasHH})
		}
	}
	return ps
}

// SetTraining turns the dropout between layers on (training) or off.
func (r *Recurrent) SetTraining(on bool) { r.training = on }

// Training reports whether r is in training mode.
func (r *Recurrent) Training() bool { return r.training }

// Forward returns the output sequence for x with zero initial states and
// full lengths; Run gives the final states and takes initial ones and
// lengths.
func (r *Recurrent) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	out, _, _ := r.Run(g, x, RecurrentState{})
	return out
}

// Run returns the output sequence of the last layer (both directions'
// features concatenated, forward first), the final hidden states h_n of
// every layer and direction, and for LSTM the final cell states c_n (nil
// otherwise), shaped as described at Recurrent.
func (r *Recurrent) Run(g *autograd.Tape, x *autograd.Var, st RecurrentState) (out, hn, cn *autograd.Var) {
	cfg := r.Config
	L, D, H := cfg.NumLayers, r.dirs(), cfg.HiddenSize
	xs := x.Shape()
	unbatched := len(xs) == 2
	if (len(xs) != 2 && len(xs) != 3) || xs[len(xs)-1] != cfg.InputSize {
		panic(fmt.Sprintf("nn: %v: input %v, want (T, B, %d), (B, T, %d) with batch_first, or (T, %d)",
			r.Cell, xs, cfg.InputSize, cfg.InputSize, cfg.InputSize))
	}
	// Batch-first data stays batch-first all the way: Linear does not care
	// and Recurrent takes either layout.
	batchFirst := cfg.BatchFirst && !unbatched
	if unbatched {
		if st.Lengths != nil {
			panic("nn: lengths given for an unbatched sequence")
		}
		x = g.Reshape(x, xs[0], 1, xs[1])
	}
	T, B := x.Shape()[0], x.Shape()[1]
	if batchFirst {
		T, B = B, T
	}
	h0 := r.initial(g, st.H0, "h0", unbatched, B)
	c0 := r.initial(g, st.C0, "c0", unbatched, B)
	if c0 != nil && r.Cell != autograd.CellLSTM {
		panic(fmt.Sprintf("nn: %v takes no initial cell state", r.Cell))
	}
	var hBuf, cBuf [8]*autograd.Var // stay on the stack for up to 4 bidirectional layers
	hs, cs := hBuf[:0], cBuf[:0]
	for l := range L {
		var outs [2]*autograd.Var
		for d := range D {
			k := l*D + d
			w := r.Weights[k]
			opt := autograd.RecurrentOptions{Lengths: st.Lengths, Reverse: d == 1, BatchFirst: batchFirst}
			if h0 != nil {
				opt.H0 = g.Narrow(h0, 0, k, 1)
			}
			if c0 != nil {
				opt.C0 = g.Narrow(c0, 0, k, 1)
			}
			xw := g.Linear(x, w.WeightIH, w.BiasIH)
			o, h, c := g.Recurrent(r.Cell, xw, w.WeightHH, w.BiasHH, opt)
			outs[d] = o
			hs = append(hs, h)
			if c != nil {
				cs = append(cs, c)
			}
		}
		x = g.Concat(2, outs[:D]...)
		if l < L-1 && r.training && cfg.Dropout > 0 {
			x = g.Dropout(x, cfg.Dropout, cfg.DropoutRng)
		}
	}
	out = x
	hn = g.Reshape(g.Concat(0, hs...), L*D, B, H)
	if len(cs) > 0 {
		cn = g.Reshape(g.Concat(0, cs...), L*D, B, H)
	}
	if unbatched {
		out = g.Reshape(out, T, D*H)
		hn = g.Reshape(hn, L*D, H)
		if cn != nil {
			cn = g.Reshape(cn, L*D, H)
		}
	}
	return out, hn, cn
}

// initial checks an initial state's shape and returns it as (L*D, B, H),
// or nil.
func (r *Recurrent) initial(g *autograd.Tape, s *autograd.Var, name string, unbatched bool, B int) *autograd.Var {
	if s == nil {
		return nil
	}
	LD, H := r.Config.NumLayers*r.dirs(), r.Config.HiddenSize
	if unbatched {
		if !s.Value().ShapeIs(LD, H) {
			panic(fmt.Sprintf("nn: %v: %s %v, want (%d, %d) for unbatched input", r.Cell, name, s.Shape(), LD, H))
		}
		return g.Reshape(s, LD, 1, H)
	}
	if !s.Value().ShapeIs(LD, B, H) {
		panic(fmt.Sprintf("nn: %v: %s %v, want (%d, %d, %d)", r.Cell, name, s.Shape(), LD, B, H))
	}
	return s
}
