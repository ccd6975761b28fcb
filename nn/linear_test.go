package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests nn.Linear, and holds the helpers the core layers' tests
// share (prefixed core, as package nn_test has several authors).

type (
	coreV = autograd.Var
	coreT = autograd.Tape
)

func coreRng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// coreTensor copies a golden tensor into a new kiln tensor.
func coreTensor(gt golden.Tensor) *tensor.Tensor {
	return tensor.FromSlice(append([]float32(nil), gt.Data...), gt.Shape...)
}

// coreLoad overwrites each of m's parameters and buffers that the case
// records (by state_dict name) with the recorded value.
func coreLoad(t *testing.T, c golden.Case, m nn.Module) {
	t.Helper()
	for _, p := range nn.NamedParams(m) {
		if c.Has(p.Name) {
			v := c.T(t, p.Name)
			if !coreShapeIs(p.Var.Value(), v.Shape) {
				t.Fatalf("%s: %s has shape %v, golden %v", c.Name, p.Name, p.Var.Shape(), v.Shape)
			}
			copy(p.Var.Data(), v.Data)
		}
	}
}

func coreShapeIs(x *tensor.Tensor, shape []int) bool { return x.ShapeIs(shape...) }

// coreGolden runs m forward on the case's x, checks y, runs backward seeded
// with dy and checks grad.x and every recorded parameter gradient and
// after-state buffer. It returns the number of tensors compared.
func coreGolden(t *testing.T, c golden.Case, m nn.Module, rtol, atol float64) int {
	t.Helper()
	x := autograd.NewVar(coreTensor(c.T(t, "x")), true)
	g := autograd.NewTape()
	y := m.Forward(g, x)
	want := c.T(t, "y")
	if !coreShapeIs(y.Value(), want.Shape) {
		t.Fatalf("y shape %v, want %v", y.Shape(), want.Shape)
	}
	n := 1
	golden.Close(t, "y", y.Value().Values(), want.Data, rtol, atol)
	g.BackwardWith(y, coreTensor(c.T(t, "dy")))
	golden.Close(t, "grad.x", x.Grad().Data(), c.T(t, "grad.x").Data, rtol, atol)
	n++
	for _, p := range nn.NamedParams(m) {
		key := "grad." + p.Name
		if p.Buffer {
			key = "after." + p.Name
		}
		if p.Int { // num_batches_tracked: not recorded
			continue
		}
		if !c.Has(key) {
			t.Errorf("golden case has no %s", key)
			continue
		}
		got := p.Var.Data()
		if !p.Buffer {
			if p.Var.Grad() == nil {
				t.Errorf("%s: no gradient", p.Name)
				continue
			}
			got = p.Var.Grad().Data()
		}
		golden.Close(t, key, got, c.T(t, key).Data, rtol, atol)
		n++
	}
	return n
}

// coreAway returns values uniform in ±[0.2, 1.2): no element within a
// finite-difference step of a kink at 0.
func coreAway(seed uint64, shape ...int) *tensor.Tensor {
	x := autogradtest.Rand(seed, -1, 1, shape...)
	for i, v := range x.Data() {
		x.Data()[i] = float32(math.Copysign(0.2+math.Abs(float64(v)), float64(v)))
	}
	return x
}

func TestLinearGolden(t *testing.T) {
	for _, c := range golden.Load(t, "linear") {
		t.Run(c.Name, func(t *testing.T) {
			l := nn.NewLinear(c.Int(t, "in_features"), c.Int(t, "out_features"), c.Bool(t, "bias"), coreRng(1))
			coreLoad(t, c, l)
			if n := coreGolden(t, c, l, 1e-5, 1e-6); n < 3 {
				t.Errorf("compared only %d tensors", n)
			}
		})
	}
}

func TestLinearGradients(t *testing.T) {
	cases := []struct {
		name string
		x    []int
		in   int
		out  int
		bias bool
	}{
		{"2d", []int{3, 4}, 4, 5, true},
		{"3d", []int{2, 3, 4}, 4, 2, true},
		{"1d", []int{4}, 4, 3, true},
		{"nobias", []int{5, 3}, 3, 2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := nn.NewLinear(c.in, c.out, c.bias, coreRng(2))
			in := []*tensor.Tensor{autogradtest.Rand(1, -1, 1, c.x...), l.Weight.Value().Clone()}
			if c.bias {
				in = append(in, l.Bias.Value().Clone())
			}
			f := func(g *coreT, v []*coreV) *coreV {
				l.Weight = v[1]
				if c.bias {
					l.Bias = v[2]
				}
				return l.Forward(g, v[0])
			}
			autogradtest.Check(t, f, in, autogradtest.Options{})
		})
	}
}

// TestLinearParams checks names, shapes, and that the initial values lie
// within PyTorch's bounds and nearly fill them.
func TestLinearParams(t *testing.T) {
	m := nn.NewSequential(nn.NewLinear(300, 40, true, coreRng(3)), nn.NewReLU(), nn.NewLinear(40, 2, false, coreRng(4)))
	ps := nn.NamedParams(m)
	want := []struct {
		name  string
		shape []int
	}{{"0.weight", []int{40, 300}}, {"0.bias", []int{40}}, {"2.weight", []int{2, 40}}}
	if len(ps) != len(want) {
		t.Fatalf("%d params, want %d", len(ps), len(want))
	}
	for i, w := range want {
		if ps[i].Name != w.name || !ps[i].Var.Value().ShapeIs(w.shape...) || ps[i].Buffer || !ps[i].Var.RequiresGrad() {
			t.Errorf("param %d: %s %v buffer=%v, want trainable %s %v", i, ps[i].Name, ps[i].Var.Shape(), ps[i].Buffer, w.name, w.shape)
		}
	}
	bound := 1 / math.Sqrt(300)
	for _, p := range ps[:2] {
		var maxAbs float64
		for _, v := range p.Var.Data() {
			maxAbs = max(maxAbs, math.Abs(float64(v)))
		}
		if maxAbs > bound || maxAbs < 0.9*bound {
			t.Errorf("%s: max |v| %g, want just under %g", p.Name, maxAbs, bound)
		}
	}
	// The same seed gives the same layer; another seed does not.
	a, b, c := nn.NewLinear(5, 3, true, coreRng(9)), nn.NewLinear(5, 3, true, coreRng(9)), nn.NewLinear(5, 3, true, coreRng(10))
	if a.Weight.Data()[0] != b.Weight.Data()[0] || a.Bias.Data()[2] != b.Bias.Data()[2] || a.Weight.Data()[0] == c.Weight.Data()[0] {
		t.Error("initialisation is not a function of the seed")
	}
}
