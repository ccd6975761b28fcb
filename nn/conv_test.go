package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/tensor"
)

func pair(t *testing.T, c golden.Case, key string) [2]int {
	v := c.Ints(t, key)
	return [2]int{v[0], v[1]}
}

func goldenTensor(gt golden.Tensor) *tensor.Tensor {
	return tensor.FromSlice(append([]float32(nil), gt.Data...), gt.Shape...)
}

// runGolden runs m forward on the case's x, backward from its dy, and
// compares y and grad.x (and any listed parameter gradients) with PyTorch.
func runGolden(t *testing.T, c golden.Case, m Module, params map[string]*autograd.Var, rtol float64) {
	t.Helper()
	g := autograd.NewTape()
	x := autograd.NewVar(goldenTensor(c.T(t, "x")), true)
	y := m.Forward(g, x)
	golden.Close(t, "y", y.Value().Values(), c.T(t, "y").Data, rtol, 1e-6)
	g.BackwardWith(y, goldenTensor(c.T(t, "dy")))
	golden.Close(t, "grad.x", x.Grad().Values(), c.T(t, "grad.x").Data, rtol, 1e-6)
	for name, p := range params {
		golden.Close(t, "grad."+name, p.Grad().Values(), c.T(t, "grad."+name).Data, rtol, 1e-6)
	}
}

func TestConv2dGolden(t *testing.T) {
	for _, c := range golden.Load(t, "conv2d") {
		t.Run(c.Name, func(t *testing.T) {
			cfg := Conv2dConfig{In: c.Int(t, "in_channels"), Out: c.Int(t, "out_channels"), Kernel: pair(t, c, "kernel_size"),
				Stride: pair(t, c, "stride"), Padding: pair(t, c, "padding"), Dilation: pair(t, c, "dilation"),
				Groups: c.Int(t, "groups"), NoBias: !c.Bool(t, "bias")}
			m := NewConv2d(cfg, rand.New(rand.NewPCG(1, 2)))
			copy(m.Weight.Data(), c.T(t, "weight").Data)
			params := map[string]*autograd.Var{"weight": m.Weight}
			if m.Bias != nil {
				copy(m.Bias.Data(), c.T(t, "bias").Data)
				params["bias"] = m.Bias
			}
			runGolden(t, c, m, params, 1e-4)
		})
	}
}

func poolOptions(t *testing.T, c golden.Case) autograd.PoolOptions {
	o := autograd.PoolOptions{Kernel: pair(t, c, "kernel_size"), Stride: pair(t, c, "stride"), Padding: pair(t, c, "padding"),
		CeilMode: c.Bool(t, "ceil_mode")}
	if c.HasAttr("dilation") {
		o.Dilation = pair(t, c, "dilation")
	}
	if c.HasAttr("count_include_pad") {
		o.ExcludePad = !c.Bool(t, "count_include_pad")
	}
	if c.HasAttr("divisor_override") && c.Attrs["divisor_override"] != nil {
		o.Divisor = c.Int(t, "divisor_override")
	}
	return o
}

func TestPoolGolden(t *testing.T) {
	for _, group := range []string{"maxpool2d", "avgpool2d", "adaptiveavgpool2d"} {
		for _, c := range golden.Load(t, group) {
			t.Run(group+"/"+c.Name, func(t *testing.T) {
				var m Module
				switch group {
				case "maxpool2d":
					m = &MaxPool2d{Options: poolOptions(t, c)}
				case "avgpool2d":
					m = &AvgPool2d{Options: poolOptions(t, c)}
				default:
					out := c.Ints(t, "output_size")
					m = &AdaptiveAvgPool2d{OutH: out[0], OutW: out[1]}
				}
				runGolden(t, c, m, nil, 1e-5)
			})
		}
	}
}

// TestConv2dLayerGradients checks the layer end to end (weight and bias
// included) against finite differences.
func TestConv2dLayerGradients(t *testing.T) {
	m := NewConv2d(Conv2dConfig{In: 2, Out: 3, Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Padding: [2]int{1, 0}}, rand.New(rand.NewPCG(3, 4)))
	f := func(g *autograd.Tape, in []*autograd.Var) *autograd.Var {
		return g.Conv2d(in[0], in[1], in[2], m.opts)
	}
	autogradtest.Check(t, f, []*tensor.Tensor{autogradtest.Rand(1, -1, 1, 2, 2, 5, 4), m.Weight.Value(), m.Bias.Value()}, autogradtest.Options{})
}

func TestConv2dOutSize(t *testing.T) {
	m := NewConv2d(Conv2dConfig{In: 1, Out: 1, Kernel: [2]int{5, 5}}, rand.New(rand.NewPCG(1, 1)))
	if h, w := m.OutSize(32, 28); h != 28 || w != 24 {
		t.Errorf("OutSize(32, 28) = %d, %d; want 28, 24", h, w)
	}
}
