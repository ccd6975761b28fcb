package backendtest

// This file checks a backend's ops against PyTorch's own values, the
// golden files of testdata/golden that the engine's layer tests use
// (internal/golden): convolution, max and adaptive average pooling, the
// linear layer as its GEMMs and bias, ReLU, batch normalisation and
// cross-entropy, forward and backward. It leaves out the optimizers, whose
// device updates package device checks against the same files.

import (
	"testing"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

// Golden runs every golden case the backend's ops cover on b, within
// rtol (and atol 1e-5) of PyTorch's values: 1e-4 is what the engine's
// own layer tests take.
func Golden(t *testing.T, b backend.Backend, rtol float64) { GoldenTol(t, b, rtol, 1e-5) }

// GoldenTol is Golden with an absolute tolerance too: TF32 rounds every
// product's inputs, so a sum that cancels is off by the magnitude of its
// terms times 2^-11, not by a fraction of its own.
func GoldenTol(t *testing.T, b backend.Backend, rtol, atol float64) {
	g := &goldenRun{b: b, rtol: rtol, atol: atol}
	t.Run("conv2d", func(t *testing.T) { g.each(t, "conv2d", g.conv2d) })
	t.Run("maxpool2d", func(t *testing.T) { g.each(t, "maxpool2d", g.maxPool2d) })
	t.Run("adaptiveavgpool2d", func(t *testing.T) { g.each(t, "adaptiveavgpool2d", g.adaptiveAvgPool2d) })
	t.Run("linear", func(t *testing.T) { g.each(t, "linear", g.linear) })
	t.Run("avgpool2d", func(t *testing.T) { g.each(t, "avgpool2d", g.avgPool2d) })
	t.Run("activations", func(t *testing.T) { g.each(t, "activations", g.activation) })
	t.Run("batchnorm", func(t *testing.T) { g.each(t, "batchnorm", g.batchNorm) })
	t.Run("cross_entropy", func(t *testing.T) { g.each(t, "losses", g.crossEntropy) })
}

type goldenRun struct {
	b          backend.Backend
	rtol, atol float64
}

// each runs check on every case of group; check reports whether the case
// was one it covers. A group none of whose cases ran fails.
func (g *goldenRun) each(t *testing.T, group string, check func(t *testing.T, c golden.Case) bool) {
	ran := 0
	for _, c := range golden.Load(t, group) {
		t.Run(c.Name, func(t *testing.T) {
			if !check(t, c) {
				t.Skip("a setting the device's ops leave out")
			}
			ran++
		})
	}
	if ran == 0 {
		t.Fatalf("no case of %s ran", group)
	}
}

// up uploads a golden tensor.
func (g *goldenRun) up(t *testing.T, c golden.Case, name string) backend.Buffer {
	t.Helper()
	return upload(t, g.b, c.T(t, name).Data)
}

// zeros allocates n zeroed floats.
func (g *goldenRun) zeros(t *testing.T, n int) backend.Buffer {
	t.Helper()
	return alloc(t, g.b, n)
}

// close downloads got and compares it with the case's tensor want.
func (g *goldenRun) close(t *testing.T, c golden.Case, want string, got backend.Buffer) {
	t.Helper()
	host := make([]float32, got.Len())
	if err := g.b.Download(host, got); err != nil {
		t.Fatal(err)
	}
	golden.Close(t, want, host, c.T(t, want).Data, g.rtol, g.atol)
}

// pass runs fwd from the case's x into a new y and bwd from its dy (and
// that y) into a new dx, and compares y and dx with PyTorch's y and
// grad.x.
func (g *goldenRun) pass(t *testing.T, c golden.Case, fwd func(x, y backend.Buffer), bwd func(y, dy, dx backend.Buffer)) bool {
	t.Helper()
	y, dx := g.zeros(t, len(c.T(t, "y").Data)), g.zeros(t, len(c.T(t, "x").Data))
	fwd(g.up(t, c, "x"), y)
	g.close(t, c, "y", y)
	bwd(y, g.up(t, c, "dy"), dx)
	g.close(t, c, "grad.x", dx)
	return true
}

func pairAttr(t *testing.T, c golden.Case, key string) (int, int) {
	t.Helper()
	v, ok := c.Attrs[key].([]any)
	if !ok || len(v) != 2 {
		t.Fatalf("case %s: attr %s is %v, want a pair", c.Name, key, c.Attrs[key])
	}
	a, aok := v[0].(float64)
	b, bok := v[1].(float64)
	if !aok || !bok {
		t.Fatalf("case %s: attr %s is %v, want integers", c.Name, key, v)
	}
	return int(a), int(b)
}

func (g *goldenRun) conv2d(t *testing.T, c golden.Case) bool {
	if c.String(t, "padding_mode") != "zeros" {
		return false
	}
	x := c.T(t, "x")
	p := conv.Conv2dParams{N: x.Shape[0], C: x.Shape[1], H: x.Shape[2], W: x.Shape[3], OutC: c.Int(t, "out_channels"), Groups: c.Int(t, "groups")}
	p.KH, p.KW = pairAttr(t, c, "kernel_size")
	p.StrideH, p.StrideW = pairAttr(t, c, "stride")
	p.PadH, p.PadW = pairAttr(t, c, "padding")
	p.DilH, p.DilW = pairAttr(t, c, "dilation")
	xb, w, dy := g.up(t, c, "x"), g.up(t, c, "weight"), g.up(t, c, "dy")
	var bias, db backend.Buffer
	if c.Bool(t, "bias") {
		bias, db = g.up(t, c, "bias"), g.zeros(t, p.OutC)
	}
	y := g.zeros(t, len(c.T(t, "y").Data))
	g.b.Conv2dForward(p, xb, w, bias, y, false)
	g.close(t, c, "y", y)
	dx, dw := g.zeros(t, len(x.Data)), g.zeros(t, w.Len())
	g.b.Conv2dBackwardData(p, dy, w, dx)
	g.b.Conv2dBackwardWeight(p, xb, dy, dw, db)
	g.close(t, c, "grad.x", dx)
	g.close(t, c, "grad.weight", dw)
	if !db.IsNil() {
		g.close(t, c, "grad.bias", db)
	}
	return true
}

func (g *goldenRun) maxPool2d(t *testing.T, c golden.Case) bool {
	x := c.T(t, "x")
	p := conv.MaxPool2dParams{N: x.Shape[0], C: x.Shape[1], H: x.Shape[2], W: x.Shape[3], CeilMode: c.Bool(t, "ceil_mode")}
	p.KH, p.KW = pairAttr(t, c, "kernel_size")
	p.StrideH, p.StrideW = pairAttr(t, c, "stride")
	p.PadH, p.PadW = pairAttr(t, c, "padding")
	p.DilH, p.DilW = pairAttr(t, c, "dilation")
	idx, err := g.b.AllocInts(len(c.T(t, "y").Data))
	if err != nil {
		t.Fatal(err)
	}
	return g.pass(t, c, func(x, y backend.Buffer) { g.b.MaxPool2dForward(p, x, y, idx) },
		func(_, dy, dx backend.Buffer) { g.b.MaxPool2dBackward(p, dy, idx, dx) })
}

func (g *goldenRun) adaptiveAvgPool2d(t *testing.T, c golden.Case) bool {
	x := c.T(t, "x")
	p := conv.AdaptiveAvgPool2dParams{N: x.Shape[0], C: x.Shape[1], H: x.Shape[2], W: x.Shape[3]}
	p.OutH, p.OutW = pairAttr(t, c, "output_size")
	return g.pass(t, c, func(x, y backend.Buffer) { g.b.AdaptiveAvgPool2dForward(p, x, y) },
		func(_, dy, dx backend.Buffer) { g.b.AdaptiveAvgPool2dBackward(p, dy, dx) })
}

// linear is nn.Linear as the device runs it: y = x W^T (+ b) by Sgemm and
// BiasAdd over the rows of x, dx = dy W, dW = dy^T x, db = dy's column
// sums.
func (g *goldenRun) linear(t *testing.T, c golden.Case) bool {
	in, out := c.Int(t, "in_features"), c.Int(t, "out_features")
	rows := len(c.T(t, "x").Data) / in
	x, w, dy := g.up(t, c, "x"), g.up(t, c, "weight"), g.up(t, c, "dy")
	y := g.zeros(t, rows*out)
	g.b.Sgemm(false, true, rows, out, in, 1, x, in, w, in, 0, y, out)
	if c.Bool(t, "bias") {
		g.b.BiasAdd(y, g.up(t, c, "bias"), rows, out)
	}
	g.close(t, c, "y", y)
	dx, dw := g.zeros(t, rows*in), g.zeros(t, out*in)
	g.b.Sgemm(false, false, rows, in, out, 1, dy, out, w, in, 0, dx, in)
	g.b.Sgemm(true, false, out, in, rows, 1, dy, out, x, in, 0, dw, in)
	g.close(t, c, "grad.x", dx)
	g.close(t, c, "grad.weight", dw)
	if c.Bool(t, "bias") {
		db := g.zeros(t, out)
		g.b.BiasGrad(dy, db, rows, out)
		g.close(t, c, "grad.bias", db)
	}
	return true
}

func (g *goldenRun) activation(t *testing.T, c golden.Case) bool {
	var fwd func(x, y backend.Buffer)
	var bwd func(y, dy, dx backend.Buffer)
	switch c.String(t, "op") {
	case "relu":
		fwd, bwd = g.b.ReLU, g.b.ReLUGrad
	case "sigmoid":
		fwd, bwd = g.b.Sigmoid, g.b.SigmoidGrad
	case "tanh":
		fwd, bwd = g.b.Tanh, g.b.TanhGrad
	default:
		return false
	}
	return g.pass(t, c, fwd, bwd)
}

func (g *goldenRun) avgPool2d(t *testing.T, c golden.Case) bool {
	x := c.T(t, "x")
	p := conv.AvgPool2dParams{N: x.Shape[0], C: x.Shape[1], H: x.Shape[2], W: x.Shape[3], CeilMode: c.Bool(t, "ceil_mode"),
		ExcludePad: !c.Bool(t, "count_include_pad")}
	p.KH, p.KW = pairAttr(t, c, "kernel_size")
	p.StrideH, p.StrideW = pairAttr(t, c, "stride")
	p.PadH, p.PadW = pairAttr(t, c, "padding")
	if c.HasAttr("divisor_override") && c.Attrs["divisor_override"] != nil {
		p.DivisorOverride = c.Int(t, "divisor_override")
	}
	return g.pass(t, c, func(x, y backend.Buffer) { g.b.AvgPool2dForward(p, x, y) },
		func(_, dy, dx backend.Buffer) { g.b.AvgPool2dBackward(p, dy, dx) })
}

// batchNorm runs the training-mode cases forward (output and running
// statistics) and backward, and the evaluation-mode ones forward.
func (g *goldenRun) batchNorm(t *testing.T, c golden.Case) bool {
	x := c.T(t, "x")
	spatial := 1
	for _, d := range x.Shape[2:] {
		spatial *= d
	}
	p := backend.BatchNormParams{N: x.Shape[0], C: x.Shape[1], Spatial: spatial, Training: c.Bool(t, "training"),
		Momentum: float32(c.Float(t, "momentum")), Eps: float32(c.Float(t, "eps"))}
	var w, bias, dw, db backend.Buffer
	if c.Bool(t, "affine") {
		w, bias, dw, db = g.up(t, c, "weight"), g.up(t, c, "bias"), g.zeros(t, p.C), g.zeros(t, p.C)
	}
	mean, vr := g.up(t, c, "running_mean"), g.up(t, c, "running_var")
	xb, y, saved := g.up(t, c, "x"), g.zeros(t, len(x.Data)), g.zeros(t, 2*p.C)
	g.b.BatchNormForward(p, xb, w, bias, mean, vr, y, saved)
	g.close(t, c, "y", y)
	g.close(t, c, "after.running_mean", mean)
	g.close(t, c, "after.running_var", vr)
	if !p.Training {
		return true // the device runs no backward in evaluation mode
	}
	dx := g.zeros(t, len(x.Data))
	g.b.BatchNormBackward(p, xb, g.up(t, c, "dy"), w, saved, dx, dw, db)
	g.close(t, c, "grad.x", dx)
	if !dw.IsNil() {
		g.close(t, c, "grad.weight", dw)
		g.close(t, c, "grad.bias", db)
	}
	return true
}

// crossEntropy runs the plain cases, class indices without weights or
// smoothing, mean or summed: CrossEntropy's mean, and CrossEntropyGrad
// scaled by dy (and 1/n for the mean).
func (g *goldenRun) crossEntropy(t *testing.T, c golden.Case) bool {
	red := c.String(t, "reduction")
	x := c.T(t, "x")
	if c.String(t, "op") != "cross_entropy" || c.String(t, "target_kind") != "index" || c.Float(t, "label_smoothing") != 0 ||
		c.Has("weight") || len(x.Shape) != 2 || red == "none" {
		return false
	}
	n, k := x.Shape[0], x.Shape[1]
	labels := make([]int32, n)
	for i, v := range c.T(t, "target").Data {
		if v < 0 || int(v) >= k {
			return false // an ignored target: the device has no ignore_index
		}
		labels[i] = int32(v)
	}
	lb, err := g.b.AllocInts(n)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.b.UploadInts(lb, labels); err != nil {
		t.Fatal(err)
	}
	preds, err := g.b.AllocInts(n)
	if err != nil {
		t.Fatal(err)
	}
	logp, out := g.zeros(t, n*k), g.zeros(t, 2)
	g.b.CrossEntropy(g.up(t, c, "x"), lb, n, k, logp, preds, out)
	host := make([]float32, 2)
	if err := g.b.Download(host, out); err != nil {
		t.Fatal(err)
	}
	scale := c.Scalar(t, "dy")
	loss := host[0]
	if red == "sum" {
		loss *= float32(n)
	} else {
		scale /= float32(n)
	}
	golden.Close(t, "y", []float32{loss}, c.T(t, "y").Data, g.rtol, g.atol)
	dx := g.zeros(t, n*k)
	g.b.CrossEntropyGrad(logp, lb, n, k, scale, dx)
	g.close(t, c, "grad.x", dx)
	return true
}
