package onnx

// The graph builder: nodes, initializers, value names and the static shape
// of every value, which the layer exporters need to pick ONNX operators
// (Gemm or MatMul, GlobalAveragePool or AveragePool). This file leaves out
// the layers themselves (layers.go, pool.go) and serialisation (model.go).

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
)

// Dimensions that are not a fixed size.
const (
	batchDim   = -1 // the symbolic batch size
	unknownDim = -2 // a size that depends on the batch size (a flattened batch)
)

// Attr is a node attribute; make one with AttrInt, AttrInts, AttrFloat or
// AttrString.
type Attr struct {
	name string
	kind int
	i    int64
	f    float32
	s    string
	ints []int64
}

// AttrInt is an INT attribute.
func AttrInt(name string, v int) Attr { return Attr{name: name, kind: attrInt, i: int64(v)} }

// AttrFloat is a FLOAT attribute.
func AttrFloat(name string, v float32) Attr { return Attr{name: name, kind: attrFloat, f: v} }

// AttrString is a STRING attribute.
func AttrString(name, v string) Attr { return Attr{name: name, kind: attrString, s: v} }

// AttrInts is an INTS attribute.
func AttrInts(name string, v ...int) Attr {
	a := Attr{name: name, kind: attrInts, ints: make([]int64, len(v))}
	for i, x := range v {
		a.ints[i] = int64(x)
	}
	return a
}

type node struct {
	name, op string
	in, out  []string
	attrs    []Attr
}

type initializer struct {
	name  string
	dims  []int
	dtype int
	raw   []byte
}

// Builder assembles an ONNX graph while the exporter walks a module tree.
// Values are named by strings: the graph input, initializers (named by
// their state_dict names) and node outputs. The builder knows the shape of
// every value it made; the batch dimension is symbolic.
//
// Code that exports a model with a custom forward (an Exporter, or a case
// in this package's model table) calls Module for each submodule, in the
// order the forward uses them, and the elementwise helpers (Add, Relu,
// Flatten) for the arithmetic between them.
type Builder struct {
	path    []string // module path of the layer being exported
	nodes   []node
	inits   []initializer
	shapes  map[string][]int
	params  map[*autograd.Var]string
	scalars map[uint32]string
	names   map[string]int // uses of each node-name stem, for unique names
}

func newBuilder() *Builder {
	return &Builder{
		shapes:  map[string][]int{},
		params:  map[*autograd.Var]string{},
		scalars: map[uint32]string{},
		names:   map[string]int{},
	}
}

// Path returns the state_dict prefix of the layer being exported ("" at the
// root, "layer1.0" inside a block).
func (b *Builder) Path() string { return strings.Join(b.path, ".") }

// Shape returns the shape of value x: a fixed size, or a negative number
// for the symbolic batch size (and for sizes derived from it). It returns
// nil for a name the builder has not made.
func (b *Builder) Shape(x string) []int { return slices.Clone(b.shapes[x]) }

// Module exports m, the submodule called name of the layer being exported,
// applied to x, and returns its output. Its parameters are named
// Path()+"."+name+"."+local name, as in the state_dict.
func (b *Builder) Module(name string, m nn.Module, x string) (string, error) {
	b.path = append(b.path, name)
	defer func() { b.path = b.path[:len(b.path)-1] }()
	return b.module(m, x)
}

// Errorf returns the exporter's error for layer m at the current path.
func (b *Builder) Errorf(m nn.Module, format string, args ...any) error {
	path := b.Path()
	if path == "" {
		path = "(model)"
	}
	return fmt.Errorf("onnx: layer %s (%s) cannot be exported: %s", path, strings.TrimPrefix(fmt.Sprintf("%T", m), "*"), fmt.Sprintf(format, args...))
}

// Op appends a node of the default ONNX domain with one output, whose shape
// the caller states, and returns the output's name.
func (b *Builder) Op(opType string, inputs []string, outShape []int, attrs ...Attr) string {
	for _, in := range inputs {
		if _, ok := b.shapes[in]; !ok {
			panic(fmt.Sprintf("onnx: %s node reads %q, which the builder has not made", opType, in))
		}
	}
	stem := "/" + strings.Join(append(slices.Clone(b.path), opType), "/")
	name := stem
	if k := b.names[stem]; k > 0 {
		name = stem + "_" + strconv.Itoa(k)
	}
	b.names[stem]++
	out := name + "_output_0"
	b.nodes = append(b.nodes, node{name: name, op: opType, in: slices.Clone(inputs), out: []string{out}, attrs: attrs})
	b.shapes[out] = slices.Clone(outShape)
	return out
}

// Param returns the initializer holding v, named Path()+"."+local as in
// the state_dict. A tensor already exported (a tied weight) keeps its
// first name.
func (b *Builder) Param(local string, v *autograd.Var) string {
	if name, ok := b.params[v]; ok {
		return name
	}
	name := local
	if p := b.Path(); p != "" {
		name = p + "." + local
	}
	b.params[v] = name
	b.addFloats(name, v.Data(), v.Shape())
	return name
}

// Const returns an initializer holding data with the given shape, named
// after the current path and hint; it is not part of the state_dict.
func (b *Builder) Const(hint string, data []float32, shape ...int) string {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		panic(fmt.Sprintf("onnx: constant %s of shape %v given %d values", hint, shape, len(data)))
	}
	name := b.constName(hint)
	b.addFloats(name, data, shape)
	return name
}

// Scalar returns a 0-d float constant, shared by every node that needs the
// same value.
func (b *Builder) Scalar(v float32) string {
	bits := math.Float32bits(v)
	if name, ok := b.scalars[bits]; ok {
		return name
	}
	name := "kiln.const." + strconv.FormatFloat(float64(v), 'g', -1, 32)
	b.scalars[bits] = name
	b.addFloats(name, []float32{v}, nil)
	return name
}

// ints returns an int64 1-D constant (the shape of a Reshape, say).
func (b *Builder) ints(hint string, v ...int) string {
	raw := make([]byte, 0, 8*len(v))
	for _, x := range v {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(int64(x)))
	}
	name := b.constName(hint)
	b.inits = append(b.inits, initializer{name: name, dims: []int{len(v)}, dtype: dataInt64, raw: raw})
	b.shapes[name] = []int{len(v)}
	return name
}

func (b *Builder) constName(hint string) string {
	stem := "/" + strings.Join(append(slices.Clone(b.path), hint), "/")
	name := stem
	if k := b.names[stem]; k > 0 {
		name = stem + "_" + strconv.Itoa(k)
	}
	b.names[stem]++
	return name
}

func (b *Builder) addFloats(name string, data []float32, shape []int) {
	raw := make([]byte, 0, 4*len(data))
	for _, x := range data {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(x))
	}
	b.inits = append(b.inits, initializer{name: name, dims: slices.Clone(shape), dtype: dataFloat, raw: raw})
	b.shapes[name] = slices.Clone(shape)
}

// Add returns x + y with NumPy broadcasting, as a residual connection
// needs; it fails when the shapes do not broadcast.
func (b *Builder) Add(x, y string) (string, error) {
	s, err := broadcast(b.shapes[x], b.shapes[y])
	if err != nil {
		return "", fmt.Errorf("onnx: layer %s: adding %s and %s: %w", b.Path(), x, y, err)
	}
	return b.Op("Add", []string{x, y}, s), nil
}

// Relu returns max(x, 0).
func (b *Builder) Relu(x string) string { return b.unary("Relu", x) }

// Flatten returns x reshaped to (N, rest), as autograd's Tape.Flatten does.
func (b *Builder) Flatten(x string) string {
	s := b.shapes[x]
	rest := 1
	for _, d := range s[min(1, len(s)):] {
		if d < 0 {
			rest = unknownDim
			break
		}
		rest *= d
	}
	first := 1
	if len(s) > 0 {
		first = s[0]
	}
	return b.Op("Flatten", []string{x}, []int{first, rest}, AttrInt("axis", 1))
}

func (b *Builder) unary(op string, x string, attrs ...Attr) string {
	return b.Op(op, []string{x}, b.shapes[x], attrs...)
}

// broadcast is NumPy's rule; a symbolic dimension matches only itself or 1.
func broadcast(a, c []int) ([]int, error) {
	n := max(len(a), len(c))
	out := make([]int, n)
	for i := range n {
		da, dc := 1, 1
		if j := i - n + len(a); j >= 0 {
			da = a[j]
		}
		if j := i - n + len(c); j >= 0 {
			dc = c[j]
		}
		switch {
		case da == dc:
			out[i] = da
		case da == 1:
			out[i] = dc
		case dc == 1:
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %s and %s do not broadcast", fmtShape(a), fmtShape(c))
		}
	}
	if slices.Contains(out, unknownDim) && !slices.Equal(a, c) {
		return nil, fmt.Errorf("shapes %s and %s have unknown sizes", fmtShape(a), fmtShape(c))
	}
	return out, nil
}

// fmtShape writes a shape with N for the batch size and ? for unknown sizes.
func fmtShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		switch d {
		case batchDim:
			parts[i] = "N"
		case unknownDim:
			parts[i] = "?"
		default:
			parts[i] = strconv.Itoa(d)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
