package models

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

func buildArch(t *testing.T, src string, s Shape) *Stack {
	t.Helper()
	a, err := ParseArch([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.Build(s, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func stateDict(m nn.Module) string {
	var out []string
	for _, p := range nn.NamedParams(m) {
		out = append(out, fmt.Sprintf("%s %v", p.Name, p.Var.Shape()))
	}
	return strings.Join(out, ", ")
}

func TestArchBuilds(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		s         Shape
		state     string
	}{
		{"brief example", `[{"type":"conv2d","out":32,"kernel":5},{"type":"relu"},{"type":"maxpool2d","kernel":2},{"type":"flatten"},{"type":"linear","out":10}]`,
			Shape{1, 28, 28, 10}, "0.weight [32 1 5 5], 0.bias [32], 4.weight [10 4608], 4.bias [10]"},
		{"object form, classes implied", `{"layers": [{"type": "Flatten"}, {"type": "Linear"}]}`,
			Shape{3, 4, 5, 7}, "1.weight [7 60], 1.bias [7]"},
		{"pairs, batch norm, no bias", `[
			{"type":"conv2d","out":6,"kernel":[3,1],"stride":[2,1],"padding":[1,0],"bias":false},
			{"type":"batchnorm2d","eps":0.001,"momentum":0.5},
			{"type":"leakyrelu","negative_slope":0.2},
			{"type":"avgpool2d","kernel":[2,3],"padding":[1,1]},
			{"type":"conv2d","out":4,"kernel":3,"padding":2,"dilation":2,"groups":2},
			{"type":"adaptiveavgpool2d","out":[2,1]},
			{"type":"flatten"},
			{"type":"linear","out":16},
			{"type":"batchnorm1d"},
			{"type":"gelu","approximate":"tanh"},
			{"type":"dropout","p":0.25},
			{"type":"tanh"},{"type":"sigmoid"},
			{"type":"linear","bias":false}]`,
			Shape{2, 9, 8, 3}, "0.weight [6 2 3 1], 1.weight [6], 1.bias [6], 1.running_mean [6], 1.running_var [6], 1.num_batches_tracked [], " +
				"4.weight [4 3 3 3], 4.bias [4], 7.weight [16 8], 7.bias [16], 8.weight [16], 8.bias [16], 8.running_mean [16], 8.running_var [16], 8.num_batches_tracked [], " +
				"13.weight [3 16]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := buildArch(t, tc.src, tc.s)
			if got := stateDict(st); got != tc.state {
				t.Errorf("state_dict\n%s\nwant\n%s", got, tc.state)
			}
			g := autograd.NewTape()
			for _, train := range []bool{true, false} {
				nn.SetTraining(st, train)
				y := st.Forward(g, g.Const(tensor.New(3, tc.s.Channels, tc.s.Height, tc.s.Width).Normal(rand.New(rand.NewPCG(5, 6)), 0, 1)))
				if !y.Value().ShapeIs(3, tc.s.Classes) {
					t.Errorf("train=%v: logits %v", train, y.Shape())
				}
			}
		})
	}
}

// TestArchArguments checks that each argument reaches its layer.
func TestArchArguments(t *testing.T) {
	st := buildArch(t, `[{"type":"batchnorm2d","eps":0.001,"momentum":0},{"type":"dropout","p":0},{"type":"maxpool2d","kernel":3},
		{"type":"avgpool2d","kernel":2,"stride":1},{"type":"flatten"},{"type":"linear"}]`, Shape{1, 7, 7, 2})
	bn := st.Layers.Layers[0].(*nn.BatchNorm)
	if bn.Eps != 0.001 || bn.Momentum != 0 {
		t.Errorf("batchnorm eps %v momentum %v", bn.Eps, bn.Momentum)
	}
	if d := st.Layers.Layers[1].(*nn.Dropout); d.P != 0 {
		t.Errorf("dropout p %v", d.P)
	}
	if mp := st.Layers.Layers[2].(*nn.MaxPool2d); mp.Options.Stride != [2]int{3, 3} {
		t.Errorf("maxpool stride %v, want the kernel", mp.Options.Stride)
	}
	if ap := st.Layers.Layers[3].(*nn.AvgPool2d); ap.Options.Stride != [2]int{1, 1} {
		t.Errorf("avgpool stride %v", ap.Options.Stride)
	}
	// 7x7 -> maxpool 3 -> 2x2 -> avgpool 2 stride 1 -> 1x1.
	if l := st.Layers.Layers[5].(*nn.Linear); l.In != 1 || l.Out != 2 {
		t.Errorf("linear %d -> %d", l.In, l.Out)
	}
}

// TestArchMatchesSeedCNN builds the seed CNN from a file and compares its
// parameter shapes with NewSeedCNN's.
func TestArchMatchesSeedCNN(t *testing.T) {
	src := `[{"type":"conv2d","out":32,"kernel":5},{"type":"relu"},{"type":"maxpool2d","kernel":2},
		{"type":"conv2d","out":64,"kernel":5},{"type":"relu"},{"type":"maxpool2d","kernel":2},
		{"type":"flatten"},{"type":"linear","out":128},{"type":"relu"},{"type":"dropout","p":0.2},{"type":"linear"}]`
	for _, s := range []Shape{{1, 28, 28, 10}, {3, 32, 32, 5}} {
		st := buildArch(t, src, s)
		seed, _ := NewSeedCNN(s, 0.2, rand.New(rand.NewPCG(1, 2)))
		var a, b []string
		for _, p := range nn.NamedParams(st) {
			a = append(a, fmt.Sprint(p.Var.Shape()))
		}
		for _, p := range nn.NamedParams(seed) {
			b = append(b, fmt.Sprint(p.Var.Shape()))
		}
		if fmt.Sprint(a) != fmt.Sprint(b) || st.Params.Len() != seed.Params.Len() {
			t.Errorf("%v: shapes %v, seed CNN's %v", s, a, b)
		}
	}
}

func TestArchParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{``, "want a JSON list"},
		{`[]`, "no layers"},
		{`{"layers": []}`, "no layers"},
		{`{"layer": []}`, `unknown field "layer"`},
		{`{}`, `missing "layers"`},
		{`[{"type":"relu"}] [1]`, "trailing data"},
		{`[3]`, "layer 0: want a JSON object"},
		{`[null]`, "layer 0: want a JSON object"},
		{`[{"out":3}]`, `layer 0: missing field "type"`},
		{`[{"type":7}]`, `layer 0: field "type": want a string, got 7`},
		{`[{"type":"relu"},{"type":"softmax"}]`, `layer 1: unknown layer type "softmax" (known: adaptiveavgpool2d, avgpool2d,`},
		{`[{"type":"relu","out":3}]`, `layer 0 (relu): unknown field "out" (relu takes no fields)`},
		{`[{"type":"linear","kernel":3}]`, `layer 0 (linear): unknown field "kernel" (linear takes out, bias)`},
		{`[{"type":"conv2d","kernel":5}]`, `layer 0 (conv2d): missing field "out"`},
		{`[{"type":"maxpool2d"}]`, `layer 0 (maxpool2d): missing field "kernel"`},
		{`[{"type":"relu"},{"type":"conv2d","out":8,"kernel":"5"}]`, `layer 1 (conv2d): field "kernel": want an integer from 1 to 65536 or a pair [height, width] of them, got "5"`},
		{`[{"type":"conv2d","out":0,"kernel":3}]`, `layer 0 (conv2d): field "out": want an integer from 1 to 65536, got 0`},
		{`[{"type":"conv2d","out":2.5,"kernel":3}]`, `field "out": want an integer from 1 to 65536, got 2.5`},
		{`[{"type":"conv2d","out":1e9,"kernel":3}]`, `field "out": want an integer from 1 to 65536, got 1e9`},
		{`[{"type":"conv2d","out":4,"kernel":[3,3,3]}]`, `field "kernel": want an integer from 1 to 65536 or a pair`},
		{`[{"type":"conv2d","out":4,"kernel":3,"padding":-1}]`, `field "padding": want an integer from 0 to 65536`},
		{`[{"type":"conv2d","out":4,"kernel":3,"padding":null}]`, `field "padding": null: leave the field out`},
		{`[{"type":"linear","bias":"yes"}]`, `layer 0 (linear): field "bias": want true or false, got "yes"`},
		{`[{"type":"dropout","p":1.5}]`, `layer 0 (dropout): field "p": want a number from 0 to 1, got 1.5`},
		{`[{"type":"gelu","approximate":"exact"}]`, `field "approximate": want "none" or "tanh", got "exact"`},
		{`[{"type":"batchnorm2d","momentum":"fast"}]`, `field "momentum": want a number from 0 to 1`},
	} {
		_, err := ParseArch([]byte(tc.src))
		if err == nil {
			t.Errorf("%s: accepted", tc.src)
			continue
		}
		if !strings.HasPrefix(err.Error(), "models: architecture: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.src, err, tc.want)
		}
	}
}

func TestArchBuildErrors(t *testing.T) {
	s := Shape{1, 28, 28, 10}
	for _, tc := range []struct{ src, want string }{
		{`[{"type":"linear","out":10}]`, "the last layer gives [1 28 10] per example, want [10] (the number of classes); put a flatten layer before the first linear layer"},
		{`[{"type":"flatten"},{"type":"linear","out":7}]`, "the last layer gives [7] per example, want [10]"},
		{`[{"type":"flatten"},{"type":"conv2d","out":4,"kernel":3}]`, "layer 1 (conv2d) on input [784]: conv2d needs (channels, height, width) input, not 1-D features"},
		{`[{"type":"conv2d","out":4,"kernel":30}]`, "layer 0 (conv2d) on input [1 28 28]: kernel [30 30] with dilation [1 1] does not fit the 28x28 input padded by [0 0]"},
		{`[{"type":"conv2d","out":4,"kernel":3,"groups":2}]`, "groups 2 must divide both the 1 input channels and the 4 output channels"},
		{`[{"type":"maxpool2d","kernel":2,"padding":2}]`, "layer 0 (maxpool2d) on input [1 28 28]: padding [2 2] is more than half the kernel [2 2]"},
		{`[{"type":"avgpool2d","kernel":29}]`, "kernel [29 29] does not fit the 28x28 input"},
		{`[{"type":"batchnorm1d"}]`, "batchnorm1d needs (features) or (channels, length) input, not 3-D"},
		{`[{"type":"flatten"},{"type":"batchnorm2d"}]`, "batchnorm2d needs (channels, height, width) input"},
		{`[{"type":"flatten"},{"type":"linear","out":65536},{"type":"linear","out":65536},{"type":"linear"}]`, "layer 2 (linear) on input [65536]: the model would have"},
		{`[{"type":"conv2d","out":65536,"kernel":1,"padding":0},{"type":"flatten"},{"type":"linear"}]`, "layer 0 (conv2d) on input [1 28 28]: output [65536 28 28] holds 51380224 values"},
	} {
		a, err := ParseArch([]byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		_, err = a.build(s, rand.New(rand.NewPCG(1, 2)), maxArchParams, 1<<25)
		if err == nil {
			t.Errorf("%s: built", tc.src)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.src, err, tc.want)
		}
	}
	a, _ := ParseArch([]byte(`[{"type":"flatten"},{"type":"linear"}]`))
	if _, err := a.Build(Shape{1, 0, 28, 10}, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.HasPrefix(err.Error(), "models: architecture: data shape 1x0x28") {
		t.Errorf("empty images: %v", err)
	}
}

func TestFromFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "net.json")
	os.WriteFile(good, []byte(`[{"type":"flatten"},{"type":"linear","out":8},{"type":"relu"},{"type":"linear"}]`), 0o644)
	st, err := FromFile(good, Shape{1, 4, 4, 3}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if got := stateDict(st); got != "1.weight [8 16], 1.bias [8], 3.weight [3 8], 3.bias [3]" {
		t.Errorf("state_dict %s", got)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"type":"flatten"},{"type":"linear","out":"8"}]`), 0o644)
	three := filepath.Join(dir, "three.json")
	os.WriteFile(three, []byte(`[{"type":"flatten"},{"type":"linear","out":3}]`), 0o644)
	for path, want := range map[string]string{
		bad:                             "models: " + bad + `: layer 1 (linear): field "out": want an integer`,
		three:                           "models: " + three + ": the last layer gives [3] per example, want [5]",
		filepath.Join(dir, "none.json"): "models: architecture file: open " + filepath.Join(dir, "none.json"),
	} {
		_, err := FromFile(path, Shape{1, 4, 4, 5}, rand.New(rand.NewPCG(1, 2)))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", path, err, want)
		}
	}
}
