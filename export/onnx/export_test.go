package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

func export(t *testing.T, m nn.Module, shape []int, opts Options) *tModel {
	t.Helper()
	var buf bytes.Buffer
	if err := Export(&buf, m, shape, opts); err != nil {
		t.Fatal(err)
	}
	md, err := decodeModel(buf.Bytes())
	if err != nil {
		t.Fatalf("decoding the exported model: %v", err)
	}
	return md
}

func ops(g *tGraph) []string {
	var out []string
	for _, n := range g.nodes {
		out = append(out, n.op)
	}
	return out
}

// checkWellFormed asserts what ONNX's checker would: every node reads only
// the graph input, initializers or earlier outputs; names are unique; the
// graph output is made by a node; every initializer is used.
func checkWellFormed(t *testing.T, m *tModel) {
	t.Helper()
	g := &m.graph
	if m.irVersion != 8 || m.producer != "kiln" || len(m.opsets) != 1 || m.opsets[""] != 13 {
		t.Errorf("ir_version %d, producer %q, opsets %v; want 8, kiln, {\"\": 13}", m.irVersion, m.producer, m.opsets)
	}
	if len(g.inputs) != 1 || len(g.outputs) != 1 {
		t.Fatalf("%d inputs, %d outputs", len(g.inputs), len(g.outputs))
	}
	defined := map[string]bool{g.inputs[0].name: true}
	for name, init := range g.inits {
		defined[name] = true
		want := int64(4)
		if init.dtype == dataInt64 {
			want = 8
		}
		n := int64(1)
		for _, d := range init.dims {
			n *= d
		}
		if int64(len(init.raw)) != n*want {
			t.Errorf("initializer %s: %d bytes for dims %v", name, len(init.raw), init.dims)
		}
	}
	used := map[string]bool{}
	nodeNames := map[string]bool{}
	for _, n := range g.nodes {
		if nodeNames[n.name] {
			t.Errorf("node name %s twice", n.name)
		}
		nodeNames[n.name] = true
		if n.domain != "" {
			t.Errorf("node %s in domain %q", n.name, n.domain)
		}
		for _, in := range n.in {
			if !defined[in] {
				t.Errorf("node %s (%s) reads %q before it is defined", n.name, n.op, in)
			}
			used[in] = true
		}
		for _, out := range n.out {
			if defined[out] {
				t.Errorf("node %s redefines %q", n.name, out)
			}
			defined[out] = true
		}
		for name, a := range n.attrs {
			if a.typ == 0 {
				t.Errorf("node %s attribute %s has no type", n.name, name)
			}
		}
	}
	if len(g.nodes) == 0 || !slices.Contains(g.nodes[len(g.nodes)-1].out, g.outputs[0].name) {
		t.Errorf("graph output %q is not made by the last node", g.outputs[0].name)
	}
	for name := range g.inits {
		if !used[name] {
			t.Errorf("initializer %s is never used", name)
		}
	}
	for _, v := range append(g.inputs, g.outputs...) {
		if v.elem != dataFloat {
			t.Errorf("value %s has element type %d, want float", v.name, v.elem)
		}
	}
}

func TestExportSeedCNN(t *testing.T) {
	m, err := models.NewSeedCNN(models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}, 0.2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	md := export(t, m, []int{1, 3, 32, 32}, Options{})
	checkWellFormed(t, md)
	g := &md.graph
	want := []string{"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"}
	if !slices.Equal(ops(g), want) {
		t.Errorf("ops %v, want %v", ops(g), want)
	}
	if in := g.inputs[0]; in.name != "input" || fmt.Sprint(in.dims) != "[N 3 32 32]" {
		t.Errorf("input %s %v, want input [N 3 32 32]", in.name, in.dims)
	}
	if out := g.outputs[0]; out.name != "logits" || fmt.Sprint(out.dims) != "[N 10]" {
		t.Errorf("output %s %v, want logits [N 10]", out.name, out.dims)
	}
	if g.name != "kiln" {
		t.Errorf("graph name %q", g.name)
	}
	// Weights: every state_dict tensor, bit for bit, under its name.
	ps := nn.NamedParams(m)
	if len(g.inits) != len(ps) {
		t.Errorf("%d initializers %v, want the %d state_dict tensors", len(g.inits), g.initOrder, len(ps))
	}
	for _, p := range ps {
		init, ok := g.inits[p.Name]
		if !ok {
			t.Errorf("no initializer %s", p.Name)
			continue
		}
		if fmt.Sprint(init.dims) != fmt.Sprint(p.Var.Shape()) || init.dtype != dataFloat {
			t.Errorf("%s: dims %v type %d, want %v float", p.Name, init.dims, init.dtype, p.Var.Shape())
		}
		got := init.floats()
		for i, v := range p.Var.Data() {
			if math.Float32bits(got[i]) != math.Float32bits(v) {
				t.Errorf("%s[%d] = %v, want %v", p.Name, i, got[i], v)
				break
			}
		}
	}
	conv := g.nodes[0]
	if conv.in[1] != "conv1.weight" || conv.in[2] != "conv1.bias" {
		t.Errorf("conv1 reads %v", conv.in)
	}
	for name, want := range map[string]string{"kernel_shape": "[5 5]", "strides": "[1 1]", "pads": "[0 0 0 0]", "dilations": "[1 1]"} {
		if a := conv.attrs[name]; a.typ != attrInts || fmt.Sprint(a.ints) != want {
			t.Errorf("conv %s = %v (type %d), want %s", name, a.ints, a.typ, want)
		}
	}
	if a := conv.attrs["group"]; a.typ != attrInt || a.i != 1 {
		t.Errorf("conv group %+v", a)
	}
	pool := g.nodes[2]
	if fmt.Sprint(pool.attrs["kernel_shape"].ints, pool.attrs["strides"].ints, pool.attrs["pads"].ints) != "[2 2] [2 2] [0 0 0 0]" {
		t.Errorf("pool attributes %+v", pool.attrs)
	}
	if _, ok := pool.attrs["ceil_mode"]; ok {
		t.Error("pool sets ceil_mode")
	}
	gemm := g.nodes[9]
	if a := gemm.attrs["transB"]; a.i != 1 || fmt.Sprint(gemm.in[1:]) != "[fc2.weight fc2.bias]" || gemm.out[0] != "logits" {
		t.Errorf("last Gemm %+v", gemm)
	}
	if g.nodes[7].name != "/fc1/Gemm" {
		t.Errorf("fc1 node is named %q, want /fc1/Gemm", g.nodes[7].name)
	}
}

// TestExportCases checks every model of the checker tests: well formed,
// expected operators, and the state_dict as initializers (less BatchNorm's
// num_batches_tracked, which inference does not read).
func TestExportCases(t *testing.T) {
	for _, c := range exportCases(t) {
		t.Run(c.name, func(t *testing.T) {
			md := export(t, c.m, append([]int{1}, c.shape...), Options{})
			checkWellFormed(t, md)
			g := &md.graph
			if c.ops != nil && !slices.Equal(ops(g), c.ops) {
				t.Errorf("ops %v, want %v", ops(g), c.ops)
			}
			y := forward(c.m, tensor.New(append([]int{2}, c.shape...)...))
			out := g.outputs[0].dims
			if len(out) != y.NDim() {
				t.Fatalf("output dims %v, kiln's output %v", out, y.Shape())
			}
			for i, d := range out {
				want := fmt.Sprint(y.Dim(i))
				switch {
				case i == 0 && !c.mergesBatch:
					want = "N"
				case i == 0:
					want = "?"
				}
				if d != want {
					t.Errorf("output dims %v, kiln's output %v", out, y.Shape())
				}
			}
			names := map[string]bool{}
			for _, p := range nn.NamedParams(c.m) {
				if p.Name == "num_batches_tracked" || strings.HasSuffix(p.Name, ".num_batches_tracked") {
					continue
				}
				names[p.Name] = true
				if _, ok := g.inits[p.Name]; !ok {
					t.Errorf("no initializer %s", p.Name)
				}
			}
			for _, name := range g.initOrder {
				if !names[name] && !strings.HasPrefix(name, "/") && !strings.HasPrefix(name, "kiln.const.") {
					t.Errorf("initializer %s is neither a state_dict tensor nor an exporter constant", name)
				}
			}
		})
	}
}

// TestExportPoolGeometry checks the pads that stand in for ceil mode.
func TestExportPoolGeometry(t *testing.T) {
	for _, c := range []struct {
		in, k, s, p, d int
		ceil           bool
		out, padEnd    int
	}{
		{in: 6, k: 3, s: 2, p: 1, d: 1, ceil: false, out: 3, padEnd: 1},
		{in: 6, k: 3, s: 2, p: 1, d: 1, ceil: true, out: 4, padEnd: 2}, // an extra window
		{in: 5, k: 2, s: 2, p: 1, d: 1, ceil: true, out: 3, padEnd: 1}, // PyTorch drops the window ONNX's ceil mode keeps
		{in: 7, k: 2, s: 3, p: 0, d: 1, ceil: true, out: 3, padEnd: 1},
		{in: 9, k: 3, s: 2, p: 1, d: 2, ceil: true, out: 4, padEnd: 1},
		{in: 4, k: 4, s: 1, p: 0, d: 1, ceil: true, out: 1, padEnd: 0},
	} {
		o := autograd.PoolOptions{Kernel: [2]int{c.k, 1}, Stride: [2]int{c.s, 1}, Padding: [2]int{c.p, 0}, Dilation: [2]int{c.d, 1}, CeilMode: c.ceil}
		var buf bytes.Buffer
		err := Export(&buf, &nn.MaxPool2d{Options: o}, []int{1, 1, c.in, 1}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		md, err := decodeModel(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		n := md.graph.nodes[0]
		if got := md.graph.outputs[0].dims[2]; got != fmt.Sprint(c.out) {
			t.Errorf("%+v: %s windows, want %d", c, got, c.out)
		}
		if pads := n.attrs["pads"].ints; fmt.Sprint(pads) != fmt.Sprint([]int{c.p, 0, c.padEnd, 0}) {
			t.Errorf("%+v: pads %v, want [%d 0 %d 0]", c, pads, c.p, c.padEnd)
		}
		// Floor mode with these pads gives exactly PyTorch's windows.
		if e := c.d*(c.k-1) + 1; (c.in+c.p+c.padEnd-e)/c.s+1 != c.out || c.padEnd >= e {
			t.Errorf("%+v: floor mode with end padding %d does not give %d windows within the window extent", c, c.padEnd, c.out)
		}
	}
}

func TestExportOptions(t *testing.T) {
	m := nn.NewSequential(nn.NewLinear(3, 2, true, rand.New(rand.NewPCG(1, 1))))
	md := export(t, m, []int{5, 3}, Options{InputName: "features", OutputName: "scores", StaticBatch: true, GraphName: "g", DocString: "d"})
	if in, out := md.graph.inputs[0], md.graph.outputs[0]; in.name != "features" || out.name != "scores" ||
		fmt.Sprint(in.dims, out.dims) != "[5 3] [5 2]" || md.graph.name != "g" {
		t.Errorf("input %+v, output %+v, graph %q", in, out, md.graph.name)
	}
	md = export(t, m, []int{1, 3}, Options{BatchParam: "batch"})
	if d := md.graph.inputs[0].dims[0]; d != "batch" {
		t.Errorf("batch dimension %q, want batch", d)
	}
	var a, b bytes.Buffer
	if err := Export(&a, m, []int{1, 3}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Export(&b, m, []int{1, 3}, Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two exports of one model differ")
	}
}

// TestExportTiedWeights shares one Linear between two positions: its weight
// is written once, under its first name.
func TestExportTiedWeights(t *testing.T) {
	l := nn.NewLinear(4, 4, true, rand.New(rand.NewPCG(1, 1)))
	md := export(t, nn.NewSequential(l, nn.NewTanh(), l), []int{1, 4}, Options{})
	checkWellFormed(t, md)
	if fmt.Sprint(md.graph.initOrder) != "[0.weight 0.bias]" {
		t.Errorf("initializers %v", md.graph.initOrder)
	}
	if g := md.graph.nodes[2]; fmt.Sprint(g.in) != "[/1/Tanh_output_0 0.weight 0.bias]" {
		t.Errorf("second Gemm reads %v", g.in)
	}
}

// TestExportReshape checks the target shapes nn.Flatten's Reshape uses.
func TestExportReshape(t *testing.T) {
	for _, c := range []struct {
		start, end int
		shape      []int
		want       string // target, then output dims
	}{
		{start: 2, end: 3, shape: []int{1, 3, 4, 5}, want: "[0 0 20] [N 3 20]"},
		{start: 0, end: 1, shape: []int{1, 3, 4}, want: "[-1 4] [? 4]"},
		{start: 1, end: 2, shape: []int{1, 3, 4, 5}, want: "[0 12 5] [N 12 5]"},
		{start: 0, end: -1, shape: []int{1, 3}, want: "[-1] [?]"},
	} {
		md := export(t, nn.NewFlatten(c.start, c.end), c.shape, Options{})
		checkWellFormed(t, md)
		n := md.graph.nodes[0]
		if n.op != "Reshape" {
			t.Fatalf("flatten(%d, %d) is %s", c.start, c.end, n.op)
		}
		got := fmt.Sprint(md.graph.inits[n.in[1]].int64s(), md.graph.outputs[0].dims)
		if got != c.want {
			t.Errorf("flatten(%d, %d) of %v: %s, want %s", c.start, c.end, c.shape, got, c.want)
		}
	}
}

type oddLayer struct{}

func (oddLayer) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var { return x }

type oddContainer struct{ L *nn.Linear }

func (o *oddContainer) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return o.L.Forward(g, g.Tanh(x))
}
func (o *oddContainer) Children() []nn.Child { return []nn.Child{{Name: "l", Module: o.L}} }

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	noStats := nn.NewBatchNorm2d(3, nn.BatchNormOptions{NoRunningStats: true})
	for _, c := range []struct {
		name  string
		m     nn.Module
		shape []int
		want  string
	}{
		{"unknown layer", nn.NewSequential(nn.NewReLU(), nn.NewSequential(nn.NewTanh(), oddLayer{})), []int{1, 3},
			"onnx: layer 1.1 (onnx.oddLayer) cannot be exported: no ONNX mapping"},
		{"custom container", &oddContainer{L: nn.NewLinear(3, 2, true, rng)}, []int{1, 3},
			"onnx: layer (model) (onnx.oddContainer) cannot be exported: its forward pass is not a plain sequence"},
		{"uneven adaptive pool", nn.NewSequential(&nn.AdaptiveAvgPool2d{OutH: 3, OutW: 3}), []int{1, 2, 8, 8},
			"onnx: layer 0 (nn.AdaptiveAvgPool2d) cannot be exported: output 3x3 does not divide the input's 8x8"},
		{"batch norm without statistics", nn.NewSequential(noStats), []int{1, 3, 4, 4},
			"onnx: layer 0 (nn.BatchNorm) cannot be exported: it has no running statistics"},
		{"batch norm channels", nn.NewSequential(nn.NewBatchNorm2d(4)), []int{1, 3, 4, 4},
			"onnx: layer 0 (nn.BatchNorm) cannot be exported: input (N, 3, 4, 4), want (N, 4, ...)"},
		{"linear width", nn.NewSequential(nn.NewLinear(5, 2, true, rng)), []int{1, 3},
			"onnx: layer 0 (nn.Linear) cannot be exported: input (N, 3), want last dimension 5"},
		{"conv channels", nn.NewSequential(nn.NewConv2d(nn.Conv2dConfig{In: 2, Out: 1, Kernel: [2]int{3, 3}}, rng)), []int{1, 3, 8, 8},
			"onnx: layer 0 (nn.Conv2d) cannot be exported: input (N, 3, 8, 8), want (N, 2, H, W)"},
		{"conv too small", nn.NewSequential(nn.NewConv2d(nn.Conv2dConfig{In: 3, Out: 1, Kernel: [2]int{5, 5}}, rng)), []int{1, 3, 4, 8},
			"smaller than the kernel"},
		{"pool rank", nn.NewSequential(nn.NewFlatten(1, -1), nn.NewMaxPool2d(2, 2)), []int{1, 3, 4, 4},
			"onnx: layer 1 (nn.MaxPool2d) cannot be exported: input (N, 48), want (N, C, H, W)"},
		{"pool padding", &nn.AvgPool2d{Options: autograd.PoolOptions{Kernel: [2]int{2, 2}, Padding: [2]int{2, 2}}}, []int{1, 1, 4, 4},
			"pool padding 2x2"},
		{"flatten dims", nn.NewFlatten(3, 1), []int{1, 2, 3, 4}, "flatten(start_dim=3, end_dim=1) of a 4D input"},
		{"softmax dim", nn.NewSoftmax(2), []int{1, 3}, "dim 2 of a 2D input"},
		{"empty input shape", nn.NewReLU(), nil, "onnx: input shape []"},
		{"zero input size", nn.NewReLU(), []int{1, 0}, "onnx: input shape [1 0]"},
		{"nil layer", nn.NewSequential(nil), []int{1}, "onnx: layer 0 is nil"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Export(&buf, c.m, c.shape, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written before the error", buf.Len())
			}
		})
	}
	m := nn.NewSequential(nn.NewLinear(2, 2, true, rng))
	if err := Export(failingWriter{}, m, []int{1, 2}, Options{}); err == nil || !strings.Contains(err.Error(), "onnx: writing model: disk full") {
		t.Errorf("failing writer: %v", err)
	}
	for _, o := range []Options{{InputName: "x", OutputName: "x"}, {OutputName: "/x"}, {InputName: "kiln.const.1"},
		{InputName: "0.weight"}, {OutputName: "0.bias"}} {
		if err := Export(&bytes.Buffer{}, m, []int{1, 2}, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}

func TestBuilderAddBroadcast(t *testing.T) {
	b := newBuilder()
	b.shapes["x"] = []int{batchDim, 4, 3, 3}
	b.addFloats("c", make([]float32, 4), []int{4, 1, 1})
	b.addFloats("w", make([]float32, 2), []int{2})
	y, err := b.Add("x", "c")
	if err != nil || fmt.Sprint(b.Shape(y)) != fmt.Sprint([]int{batchDim, 4, 3, 3}) {
		t.Errorf("x + c: %s %v %v", y, b.Shape(y), err)
	}
	if _, err := b.Add("x", "w"); err == nil || !strings.Contains(err.Error(), "(N, 4, 3, 3) and (2) do not broadcast") {
		t.Errorf("x + w: %v", err)
	}
}
