package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests RNN, LSTM and GRU against PyTorch (testdata/golden/
// rnn.json, made by make_rnn.py) and holds the helpers of the sequence
// layers' tests, prefixed seq, as package nn_test has several authors.

func seqRng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

func seqTensor(gt golden.Tensor) *tensor.Tensor {
	return tensor.FromSlice(append([]float32(nil), gt.Data...), gt.Shape...)
}

// seqConfig reads a recurrent case's constructor arguments.
func seqConfig(t *testing.T, c golden.Case) nn.RecurrentConfig {
	cfg := nn.RecurrentConfig{
		InputSize:     c.Int(t, "input_size"),
		HiddenSize:    c.Int(t, "hidden_size"),
		NumLayers:     c.Int(t, "num_layers"),
		NoBias:        !c.Bool(t, "bias"),
		BatchFirst:    c.Bool(t, "batch_first"),
		Bidirectional: c.Bool(t, "bidirectional"),
		Dropout:       float32(c.Float(t, "dropout")),
	}
	if c.HasAttr("nonlinearity") {
		cfg.Nonlinearity = c.String(t, "nonlinearity")
	}
	return cfg
}

func seqNew(t *testing.T, op string, cfg nn.RecurrentConfig, rng *rand.Rand) *nn.Recurrent {
	switch op {
	case "RNN":
		return &nn.NewRNN(cfg, rng).Recurrent
	case "LSTM":
		return &nn.NewLSTM(cfg, rng).Recurrent
	case "GRU":
		return &nn.NewGRU(cfg, rng).Recurrent
	}
	t.Fatalf("unknown op %q", op)
	return nil
}

// seqVar returns a leaf requiring grad holding the case's tensor name, or
// nil when the case lacks it.
func seqVar(t *testing.T, c golden.Case, name string) *autograd.Var {
	if !c.Has(name) {
		return nil
	}
	return autograd.NewVar(seqTensor(c.T(t, name)), true)
}

// seqDot returns sum(v * w) for a golden tensor w of v's shape.
func seqDot(t *testing.T, g *autograd.Tape, v *autograd.Var, w golden.Tensor) *autograd.Var {
	t.Helper()
	if !v.Value().ShapeIs(w.Shape...) {
		t.Fatalf("shape %v, golden %v", v.Shape(), w.Shape)
	}
	return g.SumAll(g.Mul(v, g.Const(seqTensor(w))))
}

func TestRecurrentGolden(t *testing.T) {
	const rtol, atol = 1e-5, 2e-6
	n := 0
	for _, c := range golden.Load(t, "rnn") {
		op := c.String(t, "op")
		if op == "Embedding" {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			m := seqNew(t, op, seqConfig(t, c), seqRng(1))
			params := nn.NamedParams(m)
			for _, p := range params {
				want := c.T(t, p.Name)
				if !p.Var.Value().ShapeIs(want.Shape...) {
					t.Fatalf("%s: shape %v, golden %v", p.Name, p.Var.Shape(), want.Shape)
				}
				copy(p.Var.Data(), want.Data)
			}
			var recorded int // state_dict entries in the case
			for name := range c.Tensors {
				if len(name) > 7 && (name[:7] == "weight_" || name[:5] == "bias_") {
					recorded++
				}
			}
			if recorded != len(params) {
				t.Fatalf("%d parameters, golden has %d", len(params), recorded)
			}
			x := seqVar(t, c, "x")
			st := nn.RecurrentState{H0: seqVar(t, c, "h0"), C0: seqVar(t, c, "c0")}
			if c.Has("lengths") {
				for _, l := range c.T(t, "lengths").Data {
					st.Lengths = append(st.Lengths, int(l))
				}
			}
			g := autograd.NewTape()
			out, hn, cn := m.Run(g, x, st)
			loss := g.Add(seqDot(t, g, out, c.T(t, "dy")), seqDot(t, g, hn, c.T(t, "dh_n")))
			golden.Close(t, "y", out.Data(), c.T(t, "y").Data, rtol, atol)
			golden.Close(t, "h_n", hn.Data(), c.T(t, "h_n").Data, rtol, atol)
			if c.Has("c_n") != (cn != nil) {
				t.Fatalf("c_n: golden has it %v, got %v", c.Has("c_n"), cn != nil)
			}
			if cn != nil {
				golden.Close(t, "c_n", cn.Data(), c.T(t, "c_n").Data, rtol, atol)
				loss = g.Add(loss, seqDot(t, g, cn, c.T(t, "dc_n")))
			}
			g.Backward(loss)
			for _, v := range []struct {
				name string
				v    *autograd.Var
			}{{"x", x}, {"h0", st.H0}, {"c0", st.C0}} {
				if v.v != nil {
					golden.Close(t, "grad."+v.name, v.v.Grad().Data(), c.T(t, "grad."+v.name).Data, rtol, atol)
				}
			}
			for _, p := range params {
				golden.Close(t, "grad."+p.Name, p.Var.Grad().Data(), c.T(t, "grad."+p.Name).Data, rtol, atol)
			}
		})
	}
	if n < 15 {
		t.Errorf("only %d recurrent golden cases", n)
	}
}
