// Package onnx writes kiln models as ONNX files (IR version 8, opset 13)
// that ONNX's checker accepts and ONNX Runtime runs.
//
// Export walks the module tree. Sequential containers and kiln's layers map
// to ONNX operators directly; a model with its own forward (SeedCNN, MLP)
// is described either by a case in this package's model table (models.go)
// or, for types outside kiln, by implementing Exporter. Weights become
// initializers named by their state_dict names, so the ONNX file and a
// PyTorch checkpoint of the same network name their tensors alike.
//
// The exported graph is the evaluation-mode forward whatever mode the model
// is in: Dropout disappears and BatchNorm normalises with its running
// statistics. The protobuf encoding is written by hand (proto.go); the
// package has no protobuf dependency.
//
// The package leaves out other opsets, symbolic image sizes (only the batch
// size is symbolic), training graphs, weights stored as external data
// (models past protobuf's 2 GiB limit) and quantisation itself: a
// quantised model describes its QDQ graph through Exporter, with int8 and
// int32 initializers (Builder.Int8s, Builder.Int32s).
package onnx

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/nn"
)

// Versions written into every model.
const (
	IRVersion = 8  // ONNX IR version (onnx 1.10 and later read it)
	Opset     = 13 // version of the default ai.onnx operator set
)

// Options tune Export; the zero value gives the defaults.
type Options struct {
	InputName       string // graph input; default "input"
	OutputName      string // graph output; default "logits"
	BatchParam      string // symbolic batch dimension; default "N"
	StaticBatch     bool   // fix the batch size to inputShape[0] instead
	GraphName       string // default "kiln"
	ProducerVersion string // kiln's version, if known
	DocString       string // free text stored with the graph
}

// Exporter is a module that describes its own forward pass as ONNX nodes:
// given the name of its input it emits nodes with b (b.Module for each
// submodule) and returns the name of its output. Export prefers it to the
// built-in mappings, so a type can also override those.
type Exporter interface {
	ExportONNX(b *Builder, x string) (string, error)
}

// Export writes m, applied to float inputs of inputShape (for an image
// classifier [1, C, H, W]; the leading batch size is symbolic unless
// opts.StaticBatch), to w as an ONNX model. An unsupported layer fails with
// "onnx: layer PATH (TYPE) cannot be exported: why", before anything is
// written.
func Export(w io.Writer, m nn.Module, inputShape []int, opts Options) error {
	if len(inputShape) == 0 || slices.ContainsFunc(inputShape, func(d int) bool { return d < 1 }) {
		return fmt.Errorf("onnx: input shape %v: want at least one dimension, all >= 1", inputShape)
	}
	opts = withDefaults(opts)
	for _, n := range []string{opts.InputName, opts.OutputName} {
		if strings.HasPrefix(n, "/") || strings.HasPrefix(n, "kiln.const.") {
			return fmt.Errorf("onnx: value name %q is reserved for the exporter's own values", n)
		}
	}
	if opts.InputName == opts.OutputName {
		return fmt.Errorf("onnx: input and output are both named %q", opts.InputName)
	}
	b := newBuilder()
	in := opts.InputName
	shape := slices.Clone(inputShape)
	if !opts.StaticBatch {
		shape[0] = batchDim
	}
	b.shapes[in] = shape
	out, err := b.module(m, in)
	if err != nil {
		return err
	}
	for _, t := range b.inits {
		if t.name == in {
			return b.Errorf(m, "a parameter is called %q, the graph input's name", in)
		}
	}
	if err := b.nameOutput(out, opts.OutputName, m); err != nil {
		return err
	}
	return b.writeModel(w, in, opts.OutputName, opts)
}

func withDefaults(o Options) Options {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.InputName, "input")
	def(&o.OutputName, "logits")
	def(&o.BatchParam, "N")
	def(&o.GraphName, "kiln")
	return o
}

// nameOutput renames the value out to name, the graph's output. An output
// that no node makes (an identity model, or one returning a weight) goes
// through an Identity node.
func (b *Builder) nameOutput(out, name string, m nn.Module) error {
	if _, clash := b.shapes[name]; clash {
		return b.Errorf(m, "a parameter is called %q, the graph output's name", name)
	}
	last := -1
	for i := range b.nodes {
		if slices.Contains(b.nodes[i].out, out) {
			last = i
		}
	}
	if last < 0 {
		out = b.Op("Identity", []string{out}, b.shapes[out])
		last = len(b.nodes) - 1
	}
	for i := range b.nodes {
		n := &b.nodes[i]
		for j := range n.in {
			if n.in[j] == out {
				n.in[j] = name
			}
		}
		for j := range n.out {
			if n.out[j] == out {
				n.out[j] = name
			}
		}
	}
	b.shapes[name] = b.shapes[out]
	delete(b.shapes, out)
	return nil
}

// module exports m applied to x at the current path.
func (b *Builder) module(m nn.Module, x string) (string, error) {
	if m == nil {
		return "", fmt.Errorf("onnx: layer %s is nil", b.Path())
	}
	if e, ok := m.(Exporter); ok {
		return e.ExportONNX(b, x)
	}
	if y, ok, err := b.zooModel(m, x); ok {
		return y, err
	}
	if y, ok, err := b.layer(m, x); ok {
		return y, err
	}
	if _, ok := m.(nn.Container); ok {
		return "", b.Errorf(m, "its forward pass is not a plain sequence of its children; give it an ExportONNX method (onnx.Exporter) or a case in export/onnx's model table")
	}
	return "", b.Errorf(m, "no ONNX mapping for this layer type")
}
