package device

// This file compiles a model into the list of layers Classifier runs. It
// knows the zoo's seed-cnn, mlp and lenet5 (whose forward passes are Go
// code, so each is spelled out here) and architecture files
// (models.Stack), whose forward pass is their layer list. It leaves out
// running the layers (program.go).

import (
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/internal/kernels/conv"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
)

// Supported names what NewClassifier compiles, for error messages.
const Supported = "seed-cnn, mlp, lenet5, the CIFAR ResNets (resnet8, resnet20) and architecture files of conv2d, maxpool2d, avgpool2d, adaptiveavgpool2d, batchnorm1d/2d, linear, relu, sigmoid, tanh, flatten and dropout layers"

type opKind uint8

const (
	opConv opKind = iota
	opPool
	opLinear
	opReLU
	opFlatten
	opDropout
	opBN
	opAdaptive
	opAdd // the residual sum of the layers src and src2
	opSigmoid
	opTanh
	opAvgPool
)

// span is a parameter's place in the flat parameter buffer; n == 0 is none.
type span struct{ off, n int }

// layer is one step of the program. in and out are per-example sizes.
// Its input is layer src's output (-1: the model's input); a sum adds
// layer src2's too.
type layer struct {
	kind      opKind
	name      string
	in, out   int
	src, src2 int

	cp     conv.Conv2dParams // N = 1; the batch size is set per call
	relu   bool              // opConv: the fused ReLU
	mp     conv.MaxPool2dParams
	inF    int // opLinear: in-features (the rows are the rest)
	outF   int
	w, b   span
	drop   *nn.Dropout
	bn     *nn.BatchNorm
	bnC    int // opBN: channels, and values per channel per example
	bnS    int
	ap     conv.AdaptiveAvgPool2dParams // N = 1
	avg    conv.AvgPool2dParams         // N = 1
	params bool                         // the layer has parameters
}

// node is a module of the model's forward pass and where its input comes
// from, before lowering: graph order is the engine's tape order, so the
// backward pass adds gradients in the engine's order.
type node struct {
	name      string
	mod       nn.Module // nil for a residual sum
	src, src2 int       // -1: the model's input
	fuse      bool      // a conv2d whose ReLU is fused
}

type graph []node

// add appends mod, fed by the last node, and returns its index.
func (g *graph) add(name string, mod nn.Module) int { return g.addFrom(len(*g)-1, name, mod) }

// addFrom appends mod fed by node src.
func (g *graph) addFrom(src int, name string, mod nn.Module) int {
	*g = append(*g, node{name: name, mod: mod, src: src, src2: -1})
	return len(*g) - 1
}

// convFeatures appends the feature extractor the seed CNN and LeNet-5
// share: conv1 and conv2, each with its ReLU fused and followed by pool,
// then a flatten.
func (g *graph) convFeatures(conv1, pool, conv2 nn.Module) {
	(*g)[g.add("conv1", conv1)].fuse = true
	g.add("pool", pool)
	(*g)[g.add("conv2", conv2)].fuse = true
	g.add("pool", pool)
	g.add("flatten", nn.NewFlatten(1, -1))
}

// sum appends the sum of nodes a and b.
func (g *graph) sum(name string, a, b int) int {
	*g = append(*g, node{name: name, src: a, src2: b})
	return len(*g) - 1
}

// UnsupportedError says why a model has no device program.
type UnsupportedError struct {
	Model string // the model's Go type
	Layer string // the first layer without a device op, or ""
}

func (e *UnsupportedError) Error() string {
	if e.Layer != "" {
		return fmt.Sprintf("device: %s: layer %s has no device op (the device path runs %s)", e.Model, e.Layer, Supported)
	}
	return fmt.Sprintf("device: %s: its forward pass is not one the device path knows (it runs %s)", e.Model, Supported)
}

// compile returns m's layers and the shape of data they were built for.
func compile(m models.Model) ([]*layer, models.Shape, error) {
	ps := m.ParamSet()
	var g graph
	var shape models.Shape
	switch m := m.(type) {
	case *models.SeedCNN:
		shape = m.Shape
		g.convFeatures(m.Conv1, m.Pool, m.Conv2)
		g.add("fc1", m.FC1)
		g.add("relu", nn.NewReLU())
		g.add("dropout", m.Dropout)
		g.add("fc2", m.FC2)
	case *models.LeNet5:
		shape = m.Shape
		g.convFeatures(m.Conv1, m.Pool, m.Conv2)
		g.add("fc1", m.FC1)
		g.add("relu", nn.NewReLU())
		g.add("fc2", m.FC2)
		g.add("relu", nn.NewReLU())
		g.add("fc3", m.FC3)
	case *models.MLP:
		shape = m.Shape
		g.add("flatten", nn.NewFlatten(1, -1))
		for i, l := range m.Layers.Layers {
			g.add(fmt.Sprintf("layers.%d", i), l)
		}
	case *models.ResNet:
		shape = m.Shape
		if err := resnetGraph(&g, m); err != nil {
			return nil, shape, err
		}
	case *models.Stack:
		shape = m.Shape
		for i, l := range m.Layers.Layers {
			g.add(fmt.Sprint(i), l)
		}
	default:
		e := &UnsupportedError{Model: fmt.Sprintf("%T", m)}
		if c, ok := m.(nn.Container); ok {
			e.Layer = firstUnknown("", c)
		}
		return nil, shape, e
	}
	shapes := make([][]int, len(g))
	inShape := func(src int) []int {
		if src < 0 {
			return []int{shape.Channels, shape.Height, shape.Width}
		}
		return shapes[src]
	}
	var out []*layer
	for i, nd := range g {
		in := inShape(nd.src)
		var l *layer
		var next []int
		var err error
		if nd.mod == nil {
			if b := inShape(nd.src2); fmt.Sprint(b) != fmt.Sprint(in) {
				err = fmt.Errorf("%s: sum of shapes %v and %v", nd.name, in, b)
			}
			l, next = &layer{kind: opAdd, name: nd.name, in: prod(in), out: prod(in)}, in
		} else {
			l, next, err = lower(nd.name, nd.mod, in, ps, nd.fuse)
		}
		if err != nil {
			return nil, shape, &UnsupportedError{Model: fmt.Sprintf("%T", m), Layer: err.Error()}
		}
		l.src, l.src2 = nd.src, nd.src2
		l.params = l.w.n > 0
		out = append(out, l)
		shapes[i] = next
	}
	return out, shape, nil
}

// resnetGraph spells out models.ResNet's forward pass: the stem, each
// BasicBlock (its shortcut after its second batch normalisation, then the
// sum, as the block's Forward records them), global average pooling and
// the classifier.
func resnetGraph(g *graph, m *models.ResNet) error {
	relu := nn.NewReLU()
	g.add("conv1", m.Conv1)
	g.add("bn1", m.BN1)
	g.add("relu", relu)
	for li, seq := range m.Layers {
		for bi, mod := range seq.Layers {
			p := fmt.Sprintf("layer%d.%d.", li+1, bi)
			blk, ok := mod.(*models.BasicBlock)
			if !ok {
				return &UnsupportedError{Model: "*models.ResNet", Layer: fmt.Sprintf("%s (%s): not a BasicBlock", p[:len(p)-1], typeName(mod))}
			}
			in := len(*g) - 1
			g.add(p+"conv1", blk.Conv1)
			g.add(p+"bn1", blk.BN1)
			g.add(p+"relu", relu)
			g.add(p+"conv2", blk.Conv2)
			h, sc := g.add(p+"bn2", blk.BN2), in
			if blk.Shortcut != nil {
				if len(blk.Shortcut.Layers) != 2 {
					return &UnsupportedError{Model: "*models.ResNet", Layer: p + "shortcut: not a convolution and a batch normalisation"}
				}
				g.addFrom(in, p+"shortcut.0", blk.Shortcut.Layers[0])
				sc = g.add(p+"shortcut.1", blk.Shortcut.Layers[1])
			}
			g.sum(p+"add", h, sc)
			g.add(p+"relu", relu)
		}
	}
	g.add("avgpool", &nn.AdaptiveAvgPool2d{OutH: 1, OutW: 1})
	g.add("flatten", nn.NewFlatten(1, -1))
	g.add("fc", m.FC)
	return nil
}

// firstUnknown names the first module under c, depth first, that has no
// device op.
func firstUnknown(prefix string, c nn.Container) string {
	for _, ch := range c.Children() {
		name := prefix + ch.Name
		switch ch.Module.(type) {
		case *nn.Conv2d, *nn.MaxPool2d, *nn.AvgPool2d, *nn.Linear, *nn.ReLU, *nn.Sigmoid, *nn.Tanh, *nn.Flatten, *nn.Dropout,
			*nn.BatchNorm, *nn.AdaptiveAvgPool2d:
			continue
		}
		if cc, ok := ch.Module.(nn.Container); ok {
			if n := firstUnknown(name+".", cc); n != "" {
				return n
			}
			continue
		}
		return fmt.Sprintf("%s (%s)", name, typeName(ch.Module))
	}
	return ""
}

func typeName(m nn.Module) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", m), "*")
}

// lower turns one module, for inputs of per-example shape in, into a
// layer, and returns the shape it outputs.
func lower(name string, mod nn.Module, in []int, ps *nn.ParamSet, fuseReLU bool) (*layer, []int, error) {
	size := prod(in)
	bad := func(why string) error { return fmt.Errorf("%s (%s): %s", name, typeName(mod), why) }
	switch mod := mod.(type) {
	case *nn.Conv2d:
		if len(in) != 3 {
			return nil, nil, bad(fmt.Sprintf("input of shape %v, want (C, H, W)", in))
		}
		cfg := mod.Config
		p := conv.Conv2dParams{N: 1, C: in[0], H: in[1], W: in[2], OutC: cfg.Out, KH: cfg.Kernel[0], KW: cfg.Kernel[1],
			StrideH: or1(cfg.Stride[0]), StrideW: or1(cfg.Stride[1]), PadH: cfg.Padding[0], PadW: cfg.Padding[1],
			DilH: or1(cfg.Dilation[0]), DilW: or1(cfg.Dilation[1]), Groups: or1(cfg.Groups)}
		if err := p.Validate(); err != nil {
			return nil, nil, bad(err.Error())
		}
		l := &layer{kind: opConv, name: name, in: size, cp: p, relu: fuseReLU, w: find(ps, mod.Weight.Data())}
		if mod.Bias != nil {
			l.b = find(ps, mod.Bias.Data())
		}
		out := []int{p.OutC, p.OutH(), p.OutW()}
		l.out = prod(out)
		return l, out, nil
	case *nn.MaxPool2d:
		if len(in) != 3 {
			return nil, nil, bad(fmt.Sprintf("input of shape %v, want (C, H, W)", in))
		}
		o := mod.Options
		p := conv.MaxPool2dParams{N: 1, C: in[0], H: in[1], W: in[2], KH: o.Kernel[0], KW: o.Kernel[1],
			StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
			DilH: or1(o.Dilation[0]), DilW: or1(o.Dilation[1]), CeilMode: o.CeilMode}
		defaultStride(&p.StrideH, &p.StrideW, p.KH, p.KW)
		if err := p.Validate(); err != nil {
			return nil, nil, bad(err.Error())
		}
		out := []int{p.C, p.OutH(), p.OutW()}
		return &layer{kind: opPool, name: name, in: size, out: prod(out), mp: p}, out, nil
	case *nn.Linear:
		if in[len(in)-1] != mod.In {
			return nil, nil, bad(fmt.Sprintf("input of shape %v, want %d features last", in, mod.In))
		}
		l := &layer{kind: opLinear, name: name, in: size, out: size / mod.In * mod.Out, inF: mod.In, outF: mod.Out,
			w: find(ps, mod.Weight.Data())}
		if mod.Bias != nil {
			l.b = find(ps, mod.Bias.Data())
		}
		out := append(append([]int(nil), in[:len(in)-1]...), mod.Out)
		return l, out, nil
	case *nn.AvgPool2d:
		if len(in) != 3 {
			return nil, nil, bad(fmt.Sprintf("input of shape %v, want (C, H, W)", in))
		}
		o := mod.Options
		p := conv.AvgPool2dParams{N: 1, C: in[0], H: in[1], W: in[2], KH: o.Kernel[0], KW: o.Kernel[1],
			StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
			CeilMode: o.CeilMode, ExcludePad: o.ExcludePad, DivisorOverride: o.Divisor}
		defaultStride(&p.StrideH, &p.StrideW, p.KH, p.KW)
		if err := p.Validate(); err != nil {
			return nil, nil, bad(err.Error())
		}
		out := []int{p.C, p.OutH(), p.OutW()}
		return &layer{kind: opAvgPool, name: name, in: size, out: prod(out), avg: p}, out, nil
	case *nn.ReLU:
		return &layer{kind: opReLU, name: name, in: size, out: size}, in, nil
	case *nn.Sigmoid:
		return &layer{kind: opSigmoid, name: name, in: size, out: size}, in, nil
	case *nn.Tanh:
		return &layer{kind: opTanh, name: name, in: size, out: size}, in, nil
	case *nn.Flatten:
		if s, e := mod.StartDim, mod.EndDim; s != 1 || (e != -1 && e != len(in)) {
			return nil, nil, bad(fmt.Sprintf("flatten(start_dim=%d, end_dim=%d): only flatten(1, -1) runs", s, e))
		}
		return &layer{kind: opFlatten, name: name, in: size, out: size}, []int{size}, nil
	case *nn.Dropout:
		return &layer{kind: opDropout, name: name, in: size, out: size, drop: mod}, in, nil
	case *nn.BatchNorm:
		if len(in) < 1 || in[0] != mod.NumFeatures {
			return nil, nil, bad(fmt.Sprintf("input of shape %v, want %d channels first", in, mod.NumFeatures))
		}
		l := &layer{kind: opBN, name: name, in: size, out: size, bn: mod, bnC: in[0], bnS: size / in[0]}
		if mod.Weight != nil {
			l.w, l.b = find(ps, mod.Weight.Data()), find(ps, mod.Bias.Data())
		}
		return l, in, nil
	case *nn.AdaptiveAvgPool2d:
		if len(in) != 3 {
			return nil, nil, bad(fmt.Sprintf("input of shape %v, want (C, H, W)", in))
		}
		p := conv.AdaptiveAvgPool2dParams{N: 1, C: in[0], H: in[1], W: in[2], OutH: mod.OutH, OutW: mod.OutW}
		if err := p.Validate(); err != nil {
			return nil, nil, bad(err.Error())
		}
		out := []int{p.C, p.OutH, p.OutW}
		return &layer{kind: opAdaptive, name: name, in: size, out: prod(out), ap: p}, out, nil
	}
	return nil, nil, bad("no device op")
}

// find returns where v (a parameter's data, a view of ps.Data) sits in
// ps.Data.
func find(ps *nn.ParamSet, v []float32) span {
	for i, p := range ps.Params {
		d := p.Var.Data()
		if len(d) == len(v) && len(d) > 0 && &d[0] == &v[0] {
			return span{off: ps.Offset[i], n: len(v)}
		}
	}
	panic("device: a layer's parameter is not in the model's ParamSet")
}

// defaultStride sets a pooling's stride to its kernel where it is 0
// (PyTorch's stride=None).
func defaultStride(sh, sw *int, kh, kw int) {
	if *sh == 0 {
		*sh = kh
	}
	if *sw == 0 {
		*sw = kw
	}
}

func or1(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}
