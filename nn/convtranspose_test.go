package nn_test

// Tests of the decoder layers, ConvTranspose2d and Upsample, against
// PyTorch (testdata/golden/make_unsup.py) and finite differences.

import (
	"math"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

func unsupPair(t *testing.T, c golden.Case, key string) [2]int {
	t.Helper()
	v := c.Ints(t, key)
	if len(v) != 2 {
		t.Fatalf("%s: attr %s = %v, want a pair", c.Name, key, v)
	}
	return [2]int{v[0], v[1]}
}

// unsupRun runs m on the case's x, backward from dy, and compares y,
// grad.x and the gradients of params with PyTorch's.
func unsupRun(t *testing.T, c golden.Case, m nn.Module, params map[string]*autograd.Var, rtol, atol float64) {
	t.Helper()
	g := autograd.NewTape()
	x := autograd.NewVar(coreTensor(c.T(t, "x")), true)
	y := m.Forward(g, x)
	want := c.T(t, "y")
	if !y.Value().ShapeIs(want.Shape...) {
		t.Fatalf("y shape %v, want %v", y.Shape(), want.Shape)
	}
	golden.Close(t, "y", y.Data(), want.Data, rtol, atol)
	g.BackwardWith(y, coreTensor(c.T(t, "dy")))
	golden.Close(t, "grad.x", x.Grad().Data(), c.T(t, "grad.x").Data, rtol, atol)
	for name, p := range params {
		golden.Close(t, "grad."+name, p.Grad().Data(), c.T(t, "grad."+name).Data, rtol, atol)
	}
}

func TestConvTranspose2dGolden(t *testing.T) {
	cases := golden.Load(t, "convtranspose2d")
	if len(cases) < 10 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			cfg := nn.ConvTranspose2dConfig{In: c.Int(t, "in_channels"), Out: c.Int(t, "out_channels"),
				Kernel: unsupPair(t, c, "kernel_size"), Stride: unsupPair(t, c, "stride"), Padding: unsupPair(t, c, "padding"),
				OutputPadding: unsupPair(t, c, "output_padding"), Dilation: unsupPair(t, c, "dilation"),
				Groups: c.Int(t, "groups"), NoBias: !c.Bool(t, "bias")}
			m := nn.NewConvTranspose2d(cfg, coreRng(1))
			coreLoad(t, c, m)
			params := map[string]*autograd.Var{"weight": m.Weight}
			if m.Bias != nil {
				params["bias"] = m.Bias
			}
			unsupRun(t, c, m, params, 1e-4, 1e-5)
			x := c.T(t, "x")
			if h, w := m.OutSize(x.Shape[2], x.Shape[3]); h != c.T(t, "y").Shape[2] || w != c.T(t, "y").Shape[3] {
				t.Errorf("OutSize = %dx%d, PyTorch made %v", h, w, c.T(t, "y").Shape)
			}
		})
	}
}

func TestUpsampleGolden(t *testing.T) {
	cases := golden.Load(t, "upsample")
	if len(cases) < 10 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var o autograd.UpsampleOptions
			switch mode := c.String(t, "mode"); mode {
			case "nearest":
			case "bilinear":
				o.Mode = autograd.UpsampleBilinear
				o.AlignCorners = c.Bool(t, "align_corners")
			default:
				t.Fatalf("mode %q", mode)
			}
			if c.Attrs["size"] != nil {
				o.Size = unsupPair(t, c, "size")
			} else {
				s := c.Floats(t, "scale_factor")
				o.Scale = [2]float64{s[0], s[1]}
			}
			unsupRun(t, c, &nn.Upsample{Options: o}, nil, 1e-5, 1e-6)
		})
	}
}

func TestConvTranspose2dLayerGradients(t *testing.T) {
	m := nn.NewConvTranspose2d(nn.ConvTranspose2dConfig{In: 2, Out: 4, Kernel: [2]int{3, 2}, Stride: [2]int{2, 1},
		Padding: [2]int{1, 0}, OutputPadding: [2]int{1, 0}, Groups: 2}, coreRng(3))
	f := func(g *autograd.Tape, in []*autograd.Var) *autograd.Var {
		// Route through the layer's own options by swapping in the leaves.
		l := *m
		l.Weight, l.Bias = in[1], in[2]
		return l.Forward(g, in[0])
	}
	autogradtest.Check(t, f, []*tensor.Tensor{autogradtest.Rand(1, -1, 1, 2, 2, 3, 3), m.Weight.Value(), m.Bias.Value()}, autogradtest.Options{})
}

// TestConvTranspose2dInit: the weight is (In, Out/Groups, KH, KW) and drawn
// from U(-b, b) with b = 1/sqrt(Out/Groups*KH*KW), PyTorch's fan-in for this
// layout; the bias likewise.
func TestConvTranspose2dInit(t *testing.T) {
	m := nn.NewConvTranspose2d(nn.ConvTranspose2dConfig{In: 16, Out: 8, Kernel: [2]int{3, 3}, Groups: 2}, coreRng(5))
	if !m.Weight.Value().ShapeIs(16, 4, 3, 3) || !m.Bias.Value().ShapeIs(8) {
		t.Fatalf("weight %v, bias %v", m.Weight.Shape(), m.Bias.Shape())
	}
	bound := 1 / math.Sqrt(4*3*3)
	var maxAbs float64
	for _, v := range m.Weight.Data() {
		maxAbs = max(maxAbs, math.Abs(float64(v)))
	}
	if maxAbs > bound || maxAbs < 0.9*bound {
		t.Errorf("max |weight| = %g, want just under %g", maxAbs, bound)
	}
	names := []string{}
	for _, p := range nn.NamedParams(m) {
		names = append(names, p.Name)
	}
	if len(names) != 2 || names[0] != "weight" || names[1] != "bias" {
		t.Errorf("params %v", names)
	}
}

func TestConvTranspose2dBadConfigPanics(t *testing.T) {
	for name, cfg := range map[string]nn.ConvTranspose2dConfig{
		"outpad=stride":    {In: 2, Out: 2, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, OutputPadding: [2]int{2, 0}},
		"outpad no stride": {In: 2, Out: 2, Kernel: [2]int{3, 3}, OutputPadding: [2]int{1, 0}},
		"groups":           {In: 3, Out: 2, Kernel: [2]int{3, 3}, Groups: 2},
		"kernel":           {In: 2, Out: 2},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			nn.NewConvTranspose2d(cfg, coreRng(1))
		})
	}
}

func TestNewUpsample(t *testing.T) {
	g := autograd.NewTape()
	y := nn.NewUpsample(2, autograd.UpsampleBilinear).Forward(g, g.Const(tensor.New(1, 2, 3, 5)))
	if !y.Value().ShapeIs(1, 2, 6, 10) {
		t.Errorf("shape %v, want [1 2 6 10]", y.Shape())
	}
}
