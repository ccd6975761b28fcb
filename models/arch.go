package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Architecture files: a JSON list of layers that builds a Sequential model,
// for example
//
//	[{"type": "conv2d", "out": 32, "kernel": 5}, {"type": "relu"},
//	 {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"},
//	 {"type": "linear", "out": 10}]
//
// or the same list under {"layers": [...]}. Input channels, linear
// in-features and batch-norm widths follow from the data's shape (see
// Arch.Build). This file parses; archbuild.go builds. It leaves out YAML,
// branches (residual connections) and layers without a kiln module.

// LayerSpec is one layer of an architecture file with its arguments
// resolved: every field the file left out holds PyTorch's default. Sizes
// are (height, width) pairs; a single number in the file means both.
type LayerSpec struct {
	Type string // lower case: conv2d, linear, maxpool2d, ... (see LayerTypes)

	Out      int    // conv2d and linear out channels / features; 0 on linear: the number of classes
	OutSize  [2]int // adaptiveavgpool2d output size
	Kernel   [2]int // conv2d, maxpool2d, avgpool2d
	Stride   [2]int // default 1 for conv2d, the kernel for pools
	Padding  [2]int
	Dilation [2]int // conv2d, maxpool2d; default 1
	Groups   int    // conv2d; default 1
	Bias     bool   // conv2d, linear; default true

	P             float64 // dropout probability; default 0.5
	Eps           float64 // batch norm; default 1e-5
	Momentum      float64 // batch norm; default 0.1
	NegativeSlope float64 // leakyrelu; default 0.01
	Approximate   string  // gelu: "none" (default) or "tanh"
}

// Arch is a parsed architecture file.
type Arch struct {
	Layers []LayerSpec
}

// maxSize bounds every size argument (channels, kernels, strides, ...), so
// that a mistyped number fails with a message rather than an allocation.
const maxSize = 1 << 16

// layerFields lists each layer type's fields, besides "type".
var layerFields = map[string][]string{
	"conv2d":            {"out", "kernel", "stride", "padding", "dilation", "groups", "bias"},
	"linear":            {"out", "bias"},
	"maxpool2d":         {"kernel", "stride", "padding", "dilation"},
	"avgpool2d":         {"kernel", "stride", "padding"},
	"adaptiveavgpool2d": {"out"},
	"batchnorm1d":       {"eps", "momentum"},
	"batchnorm2d":       {"eps", "momentum"},
	"dropout":           {"p"},
	"relu":              nil,
	"leakyrelu":         {"negative_slope"},
	"tanh":              nil,
	"sigmoid":           nil,
	"gelu":              {"approximate"},
	"flatten":           nil,
}

// LayerTypes returns the layer types an architecture file may use, sorted.
func LayerTypes() []string {
	var ts []string
	for t := range layerFields {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// ParseArch parses an architecture file's JSON. Errors name the layer (by
// index from 0, and type) and the field at fault.
func ParseArch(data []byte) (*Arch, error) {
	a, err := parseArch(data)
	if err != nil {
		return nil, fmt.Errorf("models: architecture: %w", err)
	}
	return a, nil
}

func parseArch(data []byte) (*Arch, error) {
	var raw []json.RawMessage
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var top struct {
			Layers *[]json.RawMessage `json:"layers"`
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := decodeOne(dec, &top); err != nil {
			return nil, fmt.Errorf("want {\"layers\": [...]}: %w", err)
		}
		if top.Layers == nil {
			return nil, errors.New("missing \"layers\"")
		}
		raw = *top.Layers
	} else if err := decodeOne(json.NewDecoder(bytes.NewReader(trimmed)), &raw); err != nil {
		return nil, fmt.Errorf("want a JSON list of layers (or {\"layers\": [...]}): %w", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("no layers")
	}
	a := &Arch{Layers: make([]LayerSpec, len(raw))}
	for i, r := range raw {
		l, err := parseLayer(r)
		if err != nil {
			return nil, fmt.Errorf("layer %d%s: %w", i, l.label(), err)
		}
		a.Layers[i] = l
	}
	return a, nil
}

// decodeOne decodes exactly one JSON value.
func decodeOne(dec *json.Decoder, v any) error {
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// label is " (type)" once the type is known.
func (l LayerSpec) label() string {
	if l.Type == "" {
		return ""
	}
	return " (" + l.Type + ")"
}

func parseLayer(r json.RawMessage) (LayerSpec, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r, &fields); err != nil || fields == nil {
		return LayerSpec{}, fmt.Errorf("want a JSON object such as {\"type\": \"relu\"}, got %s", snippet(r))
	}
	l := LayerSpec{Groups: 1, Bias: true, Stride: [2]int{1, 1}, Dilation: [2]int{1, 1},
		P: 0.5, Eps: 1e-5, Momentum: 0.1, NegativeSlope: 0.01, Approximate: "none"}
	rt, ok := fields["type"]
	if !ok {
		return l, errors.New("missing field \"type\"")
	}
	var typ string
	if err := json.Unmarshal(rt, &typ); err != nil {
		return l, fmt.Errorf("field \"type\": want a string, got %s", snippet(rt))
	}
	allowed, ok := layerFields[strings.ToLower(typ)]
	if !ok {
		return l, fmt.Errorf("unknown layer type %q (known: %s)", typ, strings.Join(LayerTypes(), ", "))
	}
	l.Type = strings.ToLower(typ)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return l, fmt.Errorf("unknown field %q (%s takes no fields)", k, l.Type)
			}
			return l, fmt.Errorf("unknown field %q (%s takes %s)", k, l.Type, strings.Join(allowed, ", "))
		}
		if err := l.set(k, fields[k]); err != nil {
			return l, fmt.Errorf("field %q: %w", k, err)
		}
	}
	for _, k := range required(l.Type) {
		if _, ok := fields[k]; !ok {
			return l, fmt.Errorf("missing field %q", k)
		}
	}
	if _, ok := fields["stride"]; !ok && strings.HasSuffix(l.Type, "pool2d") {
		l.Stride = l.Kernel
	}
	return l, nil
}

// required lists the fields a layer type cannot do without.
func required(typ string) []string {
	switch typ {
	case "conv2d":
		return []string{"out", "kernel"}
	case "maxpool2d", "avgpool2d":
		return []string{"kernel"}
	case "adaptiveavgpool2d":
		return []string{"out"}
	}
	return nil
}

// set decodes field k of l from r.
func (l *LayerSpec) set(k string, r json.RawMessage) error {
	if string(bytes.TrimSpace(r)) == "null" {
		return errors.New("null: leave the field out for its default")
	}
	var err error
	switch k {
	case "out":
		if l.Type == "adaptiveavgpool2d" {
			l.OutSize, err = pairArg(r, 1)
		} else {
			l.Out, err = intArg(r, 1)
		}
	case "kernel":
		l.Kernel, err = pairArg(r, 1)
	case "stride":
		l.Stride, err = pairArg(r, 1)
	case "padding":
		l.Padding, err = pairArg(r, 0)
	case "dilation":
		l.Dilation, err = pairArg(r, 1)
	case "groups":
		l.Groups, err = intArg(r, 1)
	case "bias":
		if e := json.Unmarshal(r, &l.Bias); e != nil {
			err = fmt.Errorf("want true or false, got %s", snippet(r))
		}
	case "p":
		l.P, err = floatArg(r, 0, 1)
	case "eps":
		l.Eps, err = floatArg(r, 0, 1)
	case "momentum":
		l.Momentum, err = floatArg(r, 0, 1)
	case "negative_slope":
		l.NegativeSlope, err = floatArg(r, -maxSize, maxSize)
	case "approximate":
		if e := json.Unmarshal(r, &l.Approximate); e != nil || (l.Approximate != "none" && l.Approximate != "tanh") {
			err = fmt.Errorf("want \"none\" or \"tanh\", got %s", snippet(r))
		}
	default:
		panic("models: no decoder for layer field " + k)
	}
	return err
}

// intArg reads an integer in [lo, maxSize].
func intArg(r json.RawMessage, lo int) (int, error) {
	var f float64
	if err := json.Unmarshal(r, &f); err != nil || f != math.Trunc(f) || f < float64(lo) || f > maxSize {
		return 0, fmt.Errorf("want an integer from %d to %d, got %s", lo, maxSize, snippet(r))
	}
	return int(f), nil
}

// pairArg reads an integer or a [height, width] pair, each in [lo, maxSize].
func pairArg(r json.RawMessage, lo int) ([2]int, error) {
	if v, err := intArg(r, lo); err == nil {
		return [2]int{v, v}, nil
	}
	var two []json.RawMessage
	if err := json.Unmarshal(r, &two); err == nil && len(two) == 2 {
		a, errA := intArg(two[0], lo)
		b, errB := intArg(two[1], lo)
		if errA == nil && errB == nil {
			return [2]int{a, b}, nil
		}
	}
	return [2]int{}, fmt.Errorf("want an integer from %d to %d or a pair [height, width] of them, got %s", lo, maxSize, snippet(r))
}

// floatArg reads a number in [lo, hi].
func floatArg(r json.RawMessage, lo, hi float64) (float64, error) {
	var f float64
	if err := json.Unmarshal(r, &f); err != nil || !(f >= lo && f <= hi) {
		return 0, fmt.Errorf("want a number from %g to %g, got %s", lo, hi, snippet(r))
	}
	return f, nil
}

// snippet quotes the start of a raw JSON value for an error message.
func snippet(r json.RawMessage) string {
	s := []rune(strings.Join(strings.Fields(string(r)), " "))
	if len(s) > 40 {
		s = append(s[:37], []rune("...")...)
	}
	if len(s) == 0 {
		return "nothing"
	}
	return string(s)
}
