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
const Supported = "seed-cnn, mlp, lenet5 and architecture files of conv2d, maxpool2d, linear, relu, flatten and dropout layers"

type opKind uint8

const (
	opConv opKind = iota
	opPool
	opLinear
	opReLU
	opFlatten
	opDropout
)

// span is a parameter's place in the flat parameter buffer; n == 0 is none.
type span struct{ off, n int }

// layer is one step of the program. in and out are per-example sizes.
type layer struct {
	kind    opKind
	name    string
	in, out int

	cp     conv.Conv2dParams // N = 1; the batch size is set per call
	relu   bool              // opConv: the fused ReLU
	mp     conv.MaxPool2dParams
	inF    int // opLinear: in-features (the rows are the rest)
	outF   int
	w, b   span
	drop   *nn.Dropout
	params bool // the layer has parameters
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
	var mods []nn.Module
	var names []string
	var shape models.Shape
	fused := map[int]bool{} // conv layers whose ReLU is fused
	add := func(name string, mod nn.Module) {
		names = append(names, name)
		mods = append(mods, mod)
	}
	switch m := m.(type) {
	case *models.SeedCNN:
		shape = m.Shape
		add("conv1", m.Conv1)
		add("pool", m.Pool)
		add("conv2", m.Conv2)
		add("pool", m.Pool)
		add("flatten", nn.NewFlatten(1, -1))
		add("fc1", m.FC1)
		add("relu", nn.NewReLU())
		add("dropout", m.Dropout)
		add("fc2", m.FC2)
		fused[0], fused[2] = true, true
	case *models.LeNet5:
		shape = m.Shape
		add("conv1", m.Conv1)
		add("pool", m.Pool)
		add("conv2", m.Conv2)
		add("pool", m.Pool)
		add("flatten", nn.NewFlatten(1, -1))
		add("fc1", m.FC1)
		add("relu", nn.NewReLU())
		add("fc2", m.FC2)
		add("relu", nn.NewReLU())
		add("fc3", m.FC3)
		fused[0], fused[2] = true, true
	case *models.MLP:
		shape = m.Shape
		add("flatten", nn.NewFlatten(1, -1))
		for i, l := range m.Layers.Layers {
			add(fmt.Sprintf("layers.%d", i), l)
		}
	case *models.Stack:
		shape = m.Shape
		for i, l := range m.Layers.Layers {
			add(fmt.Sprint(i), l)
		}
	default:
		e := &UnsupportedError{Model: fmt.Sprintf("%T", m)}
		if c, ok := m.(nn.Container); ok {
			e.Layer = firstUnknown("", c)
		}
		return nil, shape, e
	}
	in := []int{shape.Channels, shape.Height, shape.Width}
	var out []*layer
	for i, mod := range mods {
		l, next, err := lower(names[i], mod, in, ps, fused[i])
		if err != nil {
			return nil, shape, &UnsupportedError{Model: fmt.Sprintf("%T", m), Layer: err.Error()}
		}
		l.params = l.w.n > 0
		out = append(out, l)
		in = next
	}
	return out, shape, nil
}

// firstUnknown names the first module under c, depth first, that has no
// device op.
func firstUnknown(prefix string, c nn.Container) string {
	for _, ch := range c.Children() {
		name := prefix + ch.Name
		switch ch.Module.(type) {
		case *nn.Conv2d, *nn.MaxPool2d, *nn.Linear, *nn.ReLU, *nn.Flatten, *nn.Dropout:
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
		if p.StrideH == 0 {
			p.StrideH = p.KH
		}
		if p.StrideW == 0 {
			p.StrideW = p.KW
		}
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
	case *nn.ReLU:
		return &layer{kind: opReLU, name: name, in: size, out: size}, in, nil
	case *nn.Flatten:
		if s, e := mod.StartDim, mod.EndDim; s != 1 || (e != -1 && e != len(in)) {
			return nil, nil, bad(fmt.Sprintf("flatten(start_dim=%d, end_dim=%d): only flatten(1, -1) runs", s, e))
		}
		return &layer{kind: opFlatten, name: name, in: size, out: size}, []int{size}, nil
	case *nn.Dropout:
		return &layer{kind: opDropout, name: name, in: size, out: size, drop: mod}, in, nil
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
