package autograd_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests the sequence primitives: Narrow, Concat, Embedding and
// Recurrent, against finite differences, against a composite of simpler
// primitives, and for the semantics of variable lengths.

// seqAll packs Recurrent's results into one Var so that a gradient check
// sees all three.
func seqAll(g *T, out, hn, cn *V) *V {
	sh := out.Shape()
	parts := []*V{g.Reshape(out, sh[0]*sh[1], sh[2]), hn}
	if cn != nil {
		parts = append(parts, cn)
	}
	return g.Concat(0, parts...)
}

func TestSequenceGradients(t *testing.T) {
	idx := []int{3, 0, 3, 4, 1, 3}
	cases := []struct {
		name string
		f    autogradtest.Func
		in   []*tensor.Tensor
	}{
		{"narrow/axis0-view", func(g *T, x []*V) *V { return g.Mul(g.Narrow(x[0], 0, 1, 2), x[1]) }, []*tensor.Tensor{rnd(1, 4, 3), rnd(2, 2, 3)}},
		{"narrow/axis1-copy", func(g *T, x []*V) *V { return g.Narrow(x[0], 1, 1, 2) }, []*tensor.Tensor{rnd(1, 2, 4, 3)}},
		{"narrow/last", func(g *T, x []*V) *V { return g.Narrow(x[0], -1, 2, 1) }, []*tensor.Tensor{rnd(1, 2, 3, 4)}},
		{"narrow/twice", func(g *T, x []*V) *V { return g.Add(g.Narrow(x[0], 1, 0, 2), g.Narrow(x[0], 1, 1, 2)) }, []*tensor.Tensor{rnd(1, 2, 3)}},
		{"concat/axis0-four", func(g *T, x []*V) *V { return g.Concat(0, x[0], x[1], x[2], x[3]) },
			[]*tensor.Tensor{rnd(1, 2, 3), rnd(2, 1, 3), rnd(3, 3, 3), rnd(4, 2, 3)}},
		{"concat/axis1", func(g *T, x []*V) *V { return g.Concat(1, x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 1, 3), rnd(2, 2, 2, 3)}},
		{"concat/last", func(g *T, x []*V) *V { return g.Concat(-1, x[0], x[1], x[2]) },
			[]*tensor.Tensor{rnd(1, 2, 2), rnd(2, 2, 3), rnd(3, 2, 1)}},
		{"concat/repeated", func(g *T, x []*V) *V { return g.Concat(0, x[0], g.Tanh(x[0]), x[0]) }, []*tensor.Tensor{rnd(1, 2, 3)}},
		{"embedding", func(g *T, x []*V) *V { return g.Embedding(x[0], idx, autograd.NoPadding, 2, 3) }, []*tensor.Tensor{rnd(1, 5, 4)}},
		{"embedding/of", func(g *T, x []*V) *V {
			return g.EmbeddingOf(x[0], g.Const(tensor.FromSlice([]float32{1, 1, 0, 2}, 4)), autograd.NoPadding)
		}, []*tensor.Tensor{rnd(1, 3, 2)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { autogradtest.Check(t, c.f, c.in, autogradtest.Options{}) })
	}
}

func TestRecurrentGradients(t *testing.T) {
	const T_, B, H = 4, 3, 3
	for _, cell := range []autograd.Cell{autograd.CellTanh, autograd.CellReLU, autograd.CellLSTM, autograd.CellGRU} {
		for _, reverse := range []bool{false, true} {
			for _, lengths := range [][]int{nil, {2, 4, 1}} {
				for _, layout := range []string{"bias", "nobias", "batchfirst"} {
					bias, bf := layout != "nobias", layout == "batchfirst"
					name := fmt.Sprintf("%v/reverse=%v/lengths=%v/%s", cell, reverse, lengths, layout)
					t.Run(name, func(t *testing.T) {
						GH := cell.Gates() * H
						xw := rnd(1, T_, B, GH)
						if bf {
							xw = rnd(1, B, T_, GH)
						}
						in := []*tensor.Tensor{xw, rnd(2, GH, H), rnd(4, B, H)}
						if bias {
							in = append(in, rnd(3, GH))
						}
						if cell == autograd.CellLSTM {
							in = append(in, rnd(5, B, H))
						}
						f := func(g *T, x []*V) *V {
							opt := autograd.RecurrentOptions{H0: x[2], Lengths: lengths, Reverse: reverse, BatchFirst: bf}
							var b *V
							rest := x[3:]
							if bias {
								b, rest = rest[0], rest[1:]
							}
							if cell == autograd.CellLSTM {
								opt.C0 = rest[0]
							}
							out, hn, cn := g.Recurrent(cell, x[0], x[1], b, opt)
							return seqAll(g, out, hn, cn)
						}
						opt := autogradtest.Options{}
						if cell == autograd.CellReLU {
							opt.Eps = 1e-3 // stay clear of the kink
						}
						autogradtest.Check(t, f, in, opt)
					})
				}
			}
		}
	}
}

// TestEmbeddingPadding checks that the padding row reads like any other but
// receives no gradient, and that repeated indices add up.
func TestEmbeddingPadding(t *testing.T) {
	w := autograd.NewVar(rnd(1, 4, 2), true)
	g := autograd.NewTape()
	y := g.Embedding(w, []int{2, 1, 2, 2, 0}, 2)
	if !y.Value().ShapeIs(5, 2) {
		t.Fatalf("shape %v, want [5 2]", y.Shape())
	}
	if y.Value().At(0, 1) != w.Value().At(2, 1) {
		t.Errorf("padding row not read: %v vs %v", y.Value().At(0, 1), w.Value().At(2, 1))
	}
	g.BackwardWith(y, tensor.Full(1, 5, 2))
	want := []float32{1, 1, 1, 1, 0, 0, 0, 0}
	for i, v := range w.Grad().Data() {
		if v != want[i] {
			t.Fatalf("grad %v, want %v", w.Grad().Data(), want)
		}
	}
}

func TestEmbeddingBadIndex(t *testing.T) {
	w := autograd.NewVar(rnd(1, 4, 2), true)
	for _, c := range []struct {
		name string
		f    func(g *T)
	}{
		{"negative", func(g *T) { g.Embedding(w, []int{0, -1}, autograd.NoPadding) }},
		{"too-big", func(g *T) { g.Embedding(w, []int{4}, autograd.NoPadding) }},
		{"fraction", func(g *T) { g.EmbeddingOf(w, g.Const(tensor.FromSlice([]float32{1.5}, 1)), autograd.NoPadding) }},
		{"nan", func(g *T) {
			g.EmbeddingOf(w, g.Const(tensor.FromSlice([]float32{float32(math.NaN())}, 1)), autograd.NoPadding)
		}},
		{"padding", func(g *T) { g.Embedding(w, []int{0}, 4) }},
		{"shape", func(g *T) { g.Embedding(w, []int{0, 1, 2}, autograd.NoPadding, 2, 2) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f(autograd.NewTape())
		})
	}
}

// TestNarrowView checks that a one-block narrow shares its input's storage
// and any other is a copy with the right elements.
func TestNarrowView(t *testing.T) {
	g := autograd.NewTape()
	x := g.Const(tensor.FromSlice([]float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 1, 3, 4))
	v := g.Narrow(x, 1, 1, 2)
	if &v.Data()[0] != &x.Data()[4] {
		t.Error("narrow after a unit axis copied")
	}
	c := g.Narrow(x, 2, 1, 2)
	want := []float32{1, 2, 5, 6, 9, 10}
	if !c.Value().ShapeIs(1, 3, 2) || fmt.Sprint(c.Data()) != fmt.Sprint(want) {
		t.Errorf("narrow(2, 1, 2) = %v %v, want %v", c.Shape(), c.Data(), want)
	}
	cat := g.Concat(2, c, g.Narrow(x, 2, 0, 1))
	wantCat := []float32{1, 2, 0, 5, 6, 4, 9, 10, 8}
	if fmt.Sprint(cat.Data()) != fmt.Sprint(wantCat) {
		t.Errorf("concat = %v, want %v", cat.Data(), wantCat)
	}
}

// recurrentComposite is the reference: the same recurrence built from
// Linear, Narrow, Concat and elementwise primitives, one node per gate and
// step, for full-length sequences.
func recurrentComposite(g *T, cell autograd.Cell, xw, w, b, h0, c0 *V, reverse bool) (out, hn, cn *V) {
	T_, B, H := xw.Shape()[0], xw.Shape()[1], w.Shape()[1]
	h, c := h0, c0
	outs := make([]*V, T_)
	one := g.Const(tensor.Full(1, B, H))
	for k := range T_ {
		t := k
		if reverse {
			t = T_ - 1 - k
		}
		x := g.Reshape(g.Narrow(xw, 0, t, 1), B, -1)
		hh := g.Linear(h, w, b)
		gate := func(m *V, i int) *V { return g.Narrow(m, 1, i*H, H) }
		switch cell {
		case autograd.CellTanh:
			h = g.Tanh(g.Add(x, hh))
		case autograd.CellReLU:
			h = g.ReLU(g.Add(x, hh))
		case autograd.CellLSTM:
			a := g.Add(x, hh)
			i, f, gg, o := g.Sigmoid(gate(a, 0)), g.Sigmoid(gate(a, 1)), g.Tanh(gate(a, 2)), g.Sigmoid(gate(a, 3))
			c = g.Add(g.Mul(f, c), g.Mul(i, gg))
			h = g.Mul(o, g.Tanh(c))
		case autograd.CellGRU:
			r := g.Sigmoid(g.Add(gate(x, 0), gate(hh, 0)))
			z := g.Sigmoid(g.Add(gate(x, 1), gate(hh, 1)))
			n := g.Tanh(g.Add(gate(x, 2), g.Mul(r, gate(hh, 2))))
			h = g.Add(g.Mul(g.Sub(one, z), n), g.Mul(z, h))
		}
		outs[t] = g.Reshape(h, 1, B, H)
	}
	return g.Concat(0, outs...), h, c
}

// TestRecurrentMatchesComposite compares the fused op's outputs and every
// input gradient with the composite reference.
func TestRecurrentMatchesComposite(t *testing.T) {
	const T_, B, H = 5, 2, 4
	for _, cell := range []autograd.Cell{autograd.CellTanh, autograd.CellReLU, autograd.CellLSTM, autograd.CellGRU} {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/reverse=%v", cell, reverse), func(t *testing.T) {
				GH := cell.Gates() * H
				ins := []*tensor.Tensor{rnd(1, T_, B, GH), rnd(2, GH, H), rnd(3, GH), rnd(4, B, H), rnd(5, B, H)}
				run := func(fused bool) (vals [][]float32, grads [][]float32) {
					leaves := make([]*V, len(ins))
					for i, x := range ins {
						leaves[i] = autograd.NewVar(x.Clone(), true)
					}
					var c0 *V
					if cell == autograd.CellLSTM {
						c0 = leaves[4]
					}
					g := autograd.NewTape()
					var out, hn, cn *V
					if fused {
						out, hn, cn = g.Recurrent(cell, leaves[0], leaves[1], leaves[2], autograd.RecurrentOptions{H0: leaves[3], C0: c0, Reverse: reverse})
					} else {
						out, hn, cn = recurrentComposite(g, cell, leaves[0], leaves[1], leaves[2], leaves[3], c0, reverse)
					}
					all := seqAll(g, out, hn, cn)
					g.BackwardWith(all, autogradtest.Rand(9, -1, 1, all.Shape()...))
					vals = append(vals, all.Value().Values())
					for _, l := range leaves {
						if l.Grad() != nil {
							grads = append(grads, l.Grad().Values())
						} else {
							grads = append(grads, nil)
						}
					}
					return vals, grads
				}
				fv, fg := run(true)
				cv, cg := run(false)
				seqClose(t, "outputs", fv[0], cv[0])
				for i := range fg {
					seqClose(t, fmt.Sprintf("grad %d", i), fg[i], cg[i])
				}
			})
		}
	}
}

func seqClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5+1e-5*math.Abs(float64(want[i])) {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
			return
		}
	}
}

// TestRecurrentLengths checks the variable-length semantics: each batch
// element behaves as if run alone on its first length steps, outputs past
// its length are zero, and hn is its state at its last valid step (first,
// for Reverse); input steps past the length get no gradient.
func TestRecurrentLengths(t *testing.T) {
	const T_, B, H = 5, 3, 2
	lengths := []int{3, 5, 1}
	for _, cell := range []autograd.Cell{autograd.CellTanh, autograd.CellLSTM, autograd.CellGRU} {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/reverse=%v", cell, reverse), func(t *testing.T) {
				GH := cell.Gates() * H
				xw := autograd.NewVar(rnd(1, T_, B, GH), true)
				w, bias := autograd.NewVar(rnd(2, GH, H), true), autograd.NewVar(rnd(3, GH), true)
				h0, c0 := autograd.NewVar(rnd(4, B, H), false), autograd.NewVar(rnd(5, B, H), false)
				if cell != autograd.CellLSTM {
					c0 = nil
				}
				g := autograd.NewTape()
				out, hn, cn := g.Recurrent(cell, xw, w, bias, autograd.RecurrentOptions{H0: h0, C0: c0, Lengths: lengths, Reverse: reverse})
				g.BackwardWith(g.Reshape(out, -1), tensor.Full(1, T_*B*H))
				for b, l := range lengths {
					// Element b alone, truncated to its length.
					xb := tensor.New(l, 1, GH)
					for s := range l {
						copy(xb.Data()[s*GH:(s+1)*GH], xw.Data()[(s*B+b)*GH:(s*B+b+1)*GH])
					}
					row := func(v *V) *V {
						if v == nil {
							return nil
						}
						return g.Const(tensor.FromSlice(v.Data()[b*H:(b+1)*H], 1, H))
					}
					ob, hb, cb := g.Recurrent(cell, g.Const(xb), w, bias, autograd.RecurrentOptions{H0: row(h0), C0: row(c0), Reverse: reverse})
					for s := range T_ {
						got := out.Data()[(s*B+b)*H : (s*B+b+1)*H]
						want := make([]float32, H)
						if s < l {
							want = ob.Data()[s*H : (s+1)*H]
						}
						seqClose(t, fmt.Sprintf("out[%d, %d]", s, b), got, want)
						if s >= l {
							gx := xw.Grad().Data()[(s*B+b)*GH : (s*B+b+1)*GH]
							seqClose(t, fmt.Sprintf("grad xw[%d, %d]", s, b), gx, make([]float32, GH))
						}
					}
					seqClose(t, fmt.Sprintf("hn[%d]", b), hn.Data()[b*H:(b+1)*H], hb.Data())
					if cn != nil {
						seqClose(t, fmt.Sprintf("cn[%d]", b), cn.Data()[b*H:(b+1)*H], cb.Data())
					}
				}
			})
		}
	}
}

func TestRecurrentBadArgs(t *testing.T) {
	xw, w := autograd.NewVar(rnd(1, 3, 2, 8), true), autograd.NewVar(rnd(2, 8, 2), true)
	for _, c := range []struct {
		name string
		f    func(g *T)
	}{
		{"gates", func(g *T) { g.Recurrent(autograd.CellGRU, xw, w, nil, autograd.RecurrentOptions{}) }},
		{"length-zero", func(g *T) {
			g.Recurrent(autograd.CellLSTM, xw, w, nil, autograd.RecurrentOptions{Lengths: []int{0, 3}})
		}},
		{"length-long", func(g *T) {
			g.Recurrent(autograd.CellLSTM, xw, w, nil, autograd.RecurrentOptions{Lengths: []int{4, 3}})
		}},
		{"lengths-count", func(g *T) {
			g.Recurrent(autograd.CellLSTM, xw, w, nil, autograd.RecurrentOptions{Lengths: []int{3}})
		}},
		{"h0", func(g *T) {
			g.Recurrent(autograd.CellLSTM, xw, w, nil, autograd.RecurrentOptions{H0: autograd.NewVar(rnd(3, 3, 2), false)})
		}},
		{"c0-gru", func(g *T) {
			g.Recurrent(autograd.CellGRU, xw, autograd.NewVar(rnd(2, 6, 2), true), nil,
				autograd.RecurrentOptions{C0: autograd.NewVar(rnd(3, 2, 2), false)})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f(autograd.NewTape())
		})
	}
}

// TestRecurrentBatchFirst checks that BatchFirst only changes the layout of
// xw and out: values and every gradient match the time-major run.
func TestRecurrentBatchFirst(t *testing.T) {
	const T_, B, H = 4, 3, 2
	for _, cell := range []autograd.Cell{autograd.CellReLU, autograd.CellLSTM, autograd.CellGRU} {
		t.Run(cell.String(), func(t *testing.T) {
			GH := cell.Gates() * H
			xt := rnd(1, T_, B, GH)
			run := func(bf bool) (out []float32, grads [][]float32) {
				x := xt.Clone()
				if bf {
					x = xt.Permute(1, 0, 2).Clone()
				}
				xw, w, h0 := autograd.NewVar(x, true), autograd.NewVar(rnd(2, GH, H), true), autograd.NewVar(rnd(3, B, H), true)
				g := autograd.NewTape()
				o, hn, _ := g.Recurrent(cell, xw, w, nil, autograd.RecurrentOptions{H0: h0, Lengths: []int{2, 4, 3}, Reverse: true, BatchFirst: bf})
				if bf {
					o = g.Transpose(o, 0, 1)
				}
				all := g.Concat(0, g.Reshape(o, -1), g.Reshape(hn, -1))
				g.BackwardWith(all, rnd(4, all.Shape()...))
				gx := xw.Grad().Clone()
				if bf {
					gx = gx.Permute(1, 0, 2).Clone()
				}
				return all.Data(), [][]float32{gx.Data(), w.Grad().Data(), h0.Grad().Data()}
			}
			ov, og := run(false)
			bv, bg := run(true)
			seqClose(t, "outputs", bv, ov)
			for i := range og {
				seqClose(t, fmt.Sprintf("grad %d", i), bg[i], og[i])
			}
		})
	}
}
