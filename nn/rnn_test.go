package nn_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests RNN, LSTM and GRU beyond the golden cases: parameter
// names and initialisation, finite differences through time, dropout
// between layers, layouts, argument checks, and a training step that
// allocates nothing.

// TestRecurrentNames pins the state_dict names and shapes of a two-layer
// bidirectional LSTM without going through the golden file.
func TestRecurrentNames(t *testing.T) {
	m := nn.NewLSTM(nn.RecurrentConfig{InputSize: 3, HiddenSize: 4, NumLayers: 2, Bidirectional: true}, seqRng(1))
	var got []string
	for _, p := range nn.NamedParams(m) {
		got = append(got, fmt.Sprintf("%s%v", p.Name, p.Var.Shape()))
	}
	want := "[weight_ih_l0[16 3] weight_hh_l0[16 4] bias_ih_l0[16] bias_hh_l0[16] " +
		"weight_ih_l0_reverse[16 3] weight_hh_l0_reverse[16 4] bias_ih_l0_reverse[16] bias_hh_l0_reverse[16] " +
		"weight_ih_l1[16 8] weight_hh_l1[16 4] bias_ih_l1[16] bias_hh_l1[16] " +
		"weight_ih_l1_reverse[16 8] weight_hh_l1_reverse[16 4] bias_ih_l1_reverse[16] bias_hh_l1_reverse[16]]"
	if fmt.Sprint(got) != want {
		t.Errorf("params\n%v\nwant\n%v", got, want)
	}
	g := nn.NewGRU(nn.RecurrentConfig{InputSize: 2, HiddenSize: 5, NoBias: true}, seqRng(1))
	if ps := nn.NamedParams(g); len(ps) != 2 || ps[0].Name != "weight_ih_l0" || !ps[1].Var.Value().ShapeIs(15, 5) {
		t.Errorf("GRU without bias: %v", ps)
	}
}

// TestRecurrentInit checks PyTorch's initialisation: every parameter
// uniform in ±1/sqrt(hidden), filling the range.
func TestRecurrentInit(t *testing.T) {
	const H = 64
	m := nn.NewRNN(nn.RecurrentConfig{InputSize: 10, HiddenSize: H, NumLayers: 2}, seqRng(3))
	bound := 1 / math.Sqrt(H)
	for _, p := range nn.NamedParams(m) {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range p.Var.Data() {
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		}
		if lo < -bound || hi > bound || lo > -0.8*bound || hi < 0.8*bound {
			t.Errorf("%s in [%.3f, %.3f], want U(±%.3f)", p.Name, lo, hi, bound)
		}
	}
}

// TestRecurrentGradients checks every layer end to end (Linear, Recurrent,
// Concat, Narrow, transposes) against finite differences through time:
// the gradients of x, h0, c0 and every parameter.
func TestRecurrentGradients(t *testing.T) {
	lengths := []int{3, 1, 4}
	for _, c := range []struct {
		name    string
		op      string
		cfg     nn.RecurrentConfig
		h0      bool
		lengths []int
	}{
		{"rnn/tanh-2layer-bidir", "RNN", nn.RecurrentConfig{NumLayers: 2, Bidirectional: true}, true, nil},
		{"rnn/relu-batchfirst", "RNN", nn.RecurrentConfig{Nonlinearity: "relu", BatchFirst: true}, true, lengths},
		{"lstm/2layer-bidir-lengths", "LSTM", nn.RecurrentConfig{NumLayers: 2, Bidirectional: true}, true, lengths},
		{"lstm/nobias-batchfirst", "LSTM", nn.RecurrentConfig{NoBias: true, BatchFirst: true}, false, nil},
		{"gru/2layer-bidir-batchfirst", "GRU", nn.RecurrentConfig{NumLayers: 2, Bidirectional: true, BatchFirst: true}, true, lengths},
		{"gru/lengths", "GRU", nn.RecurrentConfig{}, false, lengths},
	} {
		t.Run(c.name, func(t *testing.T) {
			const T_, B, I, H = 4, 3, 2, 3
			cfg := c.cfg
			cfg.InputSize, cfg.HiddenSize = I, H
			m := seqNew(t, c.op, cfg, seqRng(1))
			params := nn.NamedParams(m)
			xshape := []int{T_, B, I}
			if cfg.BatchFirst {
				xshape = []int{B, T_, I}
			}
			in := []*tensor.Tensor{autogradtest.Rand(1, -1, 1, xshape...)}
			LD := len(m.Weights)
			if c.h0 {
				in = append(in, autogradtest.Rand(2, -1, 1, LD, B, H))
				if c.op == "LSTM" {
					in = append(in, autogradtest.Rand(3, -1, 1, LD, B, H))
				}
			}
			nState := len(in) - 1
			for _, p := range params {
				in = append(in, p.Var.Value())
			}
			f := func(g *autograd.Tape, x []*autograd.Var) *autograd.Var {
				seqSetParams(m, x[1+nState:])
				st := nn.RecurrentState{Lengths: c.lengths}
				if nState > 0 {
					st.H0 = x[1]
				}
				if nState > 1 {
					st.C0 = x[2]
				}
				out, hn, cn := m.Run(g, x[0], st)
				all := []*autograd.Var{g.Reshape(out, -1), g.Reshape(hn, -1)}
				if cn != nil {
					all = append(all, g.Reshape(cn, -1))
				}
				return g.Concat(0, all...)
			}
			opt := autogradtest.Options{}
			if cfg.Nonlinearity == "relu" {
				opt.Eps = 1e-3
			}
			autogradtest.Check(t, f, in, opt)
		})
	}
}

// seqSetParams points m's parameters, in NamedParams order, at vs.
func seqSetParams(m *nn.Recurrent, vs []*autograd.Var) {
	i := 0
	next := func() *autograd.Var { i++; return vs[i-1] }
	for k := range m.Weights {
		w := &m.Weights[k]
		w.WeightIH, w.WeightHH = next(), next()
		if w.BiasIH != nil {
			w.BiasIH, w.BiasHH = next(), next()
		}
	}
}

// TestRecurrentDropout checks the dropout between layers: evaluation mode
// and p = 0 give the same output as a model without dropout, training mode
// drops about p of the first layer's outputs (seen as a changed output),
// and a fixed generator state gives a reproducible result whose gradients
// match finite differences.
func TestRecurrentDropout(t *testing.T) {
	cfg := nn.RecurrentConfig{InputSize: 3, HiddenSize: 8, NumLayers: 2}
	plain := nn.NewLSTM(cfg, seqRng(1))
	cfg.Dropout, cfg.DropoutRng = 0.5, seqRng(9)
	drop := nn.NewLSTM(cfg, seqRng(1))
	x := autogradtest.Rand(1, -1, 1, 5, 4, 3)
	run := func(m nn.Module) []float32 {
		g := autograd.NewTape()
		return m.Forward(g, g.Const(x)).Value().Values()
	}
	want := run(plain)
	nn.SetTraining(drop, false)
	if got := run(drop); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Error("evaluation mode changed the output")
	}
	nn.SetTraining(drop, true)
	a, b := run(drop), run(drop)
	if fmt.Sprint(a) == fmt.Sprint(want) || fmt.Sprint(a) == fmt.Sprint(b) {
		t.Error("training mode did not drop, or drew the same mask twice")
	}
	// The fraction of dropped first-layer outputs, through a one-layer view:
	// run the first layer alone and compare with its dropped copy.
	first := nn.NewLSTM(nn.RecurrentConfig{InputSize: 3, HiddenSize: 8}, seqRng(1))
	g := autograd.NewTape()
	h := first.Forward(g, g.Const(autogradtest.Rand(2, -1, 1, 50, 20, 3)))
	d := g.Dropout(h, 0.5, seqRng(4))
	zeros := 0
	for _, v := range d.Data() {
		if v == 0 {
			zeros++
		}
	}
	if frac := float64(zeros) / float64(len(d.Data())); math.Abs(frac-0.5) > 0.03 {
		t.Errorf("dropped %.3f of the elements, want 0.5", frac)
	}

	params := nn.NamedParams(drop)
	in := []*tensor.Tensor{x}
	for _, p := range params {
		in = append(in, p.Var.Value())
	}
	f := func(g *autograd.Tape, v []*autograd.Var) *autograd.Var {
		seqSetParams(&drop.Recurrent, v[1:])
		drop.Config.DropoutRng = seqRng(9) // the same masks on every call
		return drop.Forward(g, v[0])
	}
	autogradtest.Check(t, f, in, autogradtest.Options{})
}

// TestRecurrentBatchFirstAndUnbatched checks that batch_first only
// transposes, and that an unbatched sequence is a batch of one.
func TestRecurrentBatchFirstAndUnbatched(t *testing.T) {
	cfg := nn.RecurrentConfig{InputSize: 3, HiddenSize: 4, NumLayers: 2, Bidirectional: true}
	tm := nn.NewGRU(cfg, seqRng(1))
	cfg.BatchFirst = true
	bf := nn.NewGRU(cfg, seqRng(1))
	x := autogradtest.Rand(1, -1, 1, 5, 2, 3)
	g := autograd.NewTape()
	o1, h1, _ := tm.Run(g, g.Const(x), nn.RecurrentState{Lengths: []int{5, 3}})
	o2, h2, _ := bf.Run(g, g.Transpose(g.Const(x), 0, 1), nn.RecurrentState{Lengths: []int{5, 3}})
	if fmt.Sprint(g.Transpose(o2, 0, 1).Data()) != fmt.Sprint(o1.Data()) || fmt.Sprint(h1.Data()) != fmt.Sprint(h2.Data()) {
		t.Error("batch_first is not a transpose")
	}
	x1 := tensor.New(5, 3)
	for s := range 5 {
		copy(x1.Data()[s*3:(s+1)*3], x.Data()[(s*2+1)*3:(s*2+2)*3])
	}
	ou, hu, _ := tm.Run(g, g.Const(x1), nn.RecurrentState{})
	ob, hb, _ := tm.Run(g, g.Const(x1.View(5, 1, 3)), nn.RecurrentState{})
	if !ou.Value().ShapeIs(5, 8) || !hu.Value().ShapeIs(4, 4) {
		t.Fatalf("unbatched shapes %v %v, want [5 8] [4 4]", ou.Shape(), hu.Shape())
	}
	if fmt.Sprint(ou.Data()) != fmt.Sprint(ob.Data()) || fmt.Sprint(hu.Data()) != fmt.Sprint(hb.Data()) {
		t.Error("unbatched differs from a batch of one")
	}
}

func TestRecurrentBadArgs(t *testing.T) {
	lstm := nn.NewLSTM(nn.RecurrentConfig{InputSize: 3, HiddenSize: 4}, seqRng(1))
	gru := nn.NewGRU(nn.RecurrentConfig{InputSize: 3, HiddenSize: 4}, seqRng(1))
	x := autograd.NewVar(autogradtest.Rand(1, -1, 1, 5, 2, 3), false)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"input-size", func() { lstm.Forward(autograd.NewTape(), autograd.NewVar(tensor.New(5, 2, 4), false)) }},
		{"input-rank", func() { lstm.Forward(autograd.NewTape(), autograd.NewVar(tensor.New(5, 2, 1, 3), false)) }},
		{"h0-shape", func() {
			lstm.Run(autograd.NewTape(), x, nn.RecurrentState{H0: autograd.NewVar(tensor.New(1, 3, 4), false)})
		}},
		{"c0-gru", func() {
			gru.Run(autograd.NewTape(), x, nn.RecurrentState{C0: autograd.NewVar(tensor.New(1, 2, 4), false)})
		}},
		{"lengths-unbatched", func() {
			lstm.Run(autograd.NewTape(), autograd.NewVar(tensor.New(5, 3), false), nn.RecurrentState{Lengths: []int{5}})
		}},
		{"length-past-T", func() { lstm.Run(autograd.NewTape(), x, nn.RecurrentState{Lengths: []int{6, 1}}) }},
		{"nonlinearity", func() { nn.NewRNN(nn.RecurrentConfig{InputSize: 1, HiddenSize: 1, Nonlinearity: "sigmoid"}, seqRng(1)) }},
		{"nonlinearity-lstm", func() { nn.NewLSTM(nn.RecurrentConfig{InputSize: 1, HiddenSize: 1, Nonlinearity: "relu"}, seqRng(1)) }},
		{"dropout-rng", func() { nn.NewGRU(nn.RecurrentConfig{InputSize: 1, HiddenSize: 1, Dropout: 0.2}, seqRng(1)) }},
		{"dropout-range", func() {
			nn.NewGRU(nn.RecurrentConfig{InputSize: 1, HiddenSize: 1, Dropout: 1.5, DropoutRng: seqRng(1)}, seqRng(1))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f()
		})
	}
}

// seqLSTMStep builds a small sequence classifier (embedding, two-layer
// bidirectional LSTM with dropout, linear head on h_n) and returns a
// training step and an evaluation (no-grad) forward on a reused tape.
func seqLSTMStep(T_, B, H int) (step, eval func(), ps *nn.ParamSet) {
	emb := nn.NewEmbedding(20, 8, 0, seqRng(1))
	lstm := nn.NewLSTM(nn.RecurrentConfig{InputSize: 8, HiddenSize: H, NumLayers: 2, Bidirectional: true,
		BatchFirst: true, Dropout: 0.2, DropoutRng: seqRng(2)}, seqRng(3))
	head := nn.NewLinear(2*H, 4, true, seqRng(4))
	model := nn.NewSequential(emb, lstm, head) // for Pack only: Forward below wires them by hand
	ps = nn.Pack(model)
	tokens := tensor.New(B, T_)
	for i := range tokens.Data() {
		tokens.Data()[i] = float32(1 + i%19)
	}
	lengths := make([]int, B)
	targets := make([]int, B)
	for b := range B {
		lengths[b] = T_ - b%T_
		targets[b] = b % 4
	}
	g := autograd.NewTape()
	logits := func() *autograd.Var {
		x := emb.Forward(g, g.Const(tokens))
		_, hn, _ := lstm.Run(g, x, nn.RecurrentState{Lengths: lengths})
		last := g.Concat(1, g.Reshape(g.Narrow(hn, 0, 2, 1), B, H), g.Reshape(g.Narrow(hn, 0, 3, 1), B, H))
		return head.Forward(g, last)
	}
	step = func() {
		g.Reset()
		ps.ZeroGrad()
		lstm.SetTraining(true)
		g.Backward(g.NLL(g.LogSoftmax(logits(), 1), targets, autograd.NLLOptions{IgnoreIndex: -100}))
	}
	eval = func() {
		g.Reset()
		lstm.SetTraining(false)
		prev := g.SetGradEnabled(false)
		logits()
		g.SetGradEnabled(prev)
	}
	return step, eval, ps
}

// TestLSTMStepAllocs requires a repeated LSTM forward and backward on one
// reused tape, and a repeated no-grad forward, to allocate nothing once
// warm.
func TestLSTMStepAllocs(t *testing.T) {
	step, eval, ps := seqLSTMStep(7, 5, 6)
	for name, f := range map[string]func(){"train": step, "eval": eval} {
		for range 3 {
			f()
		}
		if n := testing.AllocsPerRun(20, f); n != 0 {
			t.Errorf("%s: %v allocations per step, want 0", name, n)
		}
	}
	step()
	var nonzero bool
	for _, v := range ps.Grad {
		nonzero = nonzero || v != 0
	}
	if !nonzero {
		t.Error("the step produced no gradient")
	}
}

// BenchmarkLSTMStep times one training step of seqLSTMStep's classifier:
// batch 32, 35 steps, hidden 128.
func BenchmarkLSTMStep(b *testing.B) {
	step, _, _ := seqLSTMStep(35, 32, 128)
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		step()
	}
}
