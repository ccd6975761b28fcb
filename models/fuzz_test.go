package models

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// FuzzParseArch feeds arbitrary bytes to the architecture parser. Whatever
// it accepts must build for a small image or fail with a message, and a
// model that builds must produce (N, classes) logits: the shapes Build
// works out must be the shapes the layers compute.
func FuzzParseArch(f *testing.F) {
	for _, s := range []string{
		`[{"type":"conv2d","out":4,"kernel":3},{"type":"relu"},{"type":"maxpool2d","kernel":2},{"type":"flatten"},{"type":"linear","out":3}]`,
		`{"layers":[{"type":"Flatten"},{"type":"linear"}]}`,
		`[{"type":"conv2d","out":4,"kernel":[3,1],"stride":[2,1],"padding":[1,0],"dilation":2,"groups":1,"bias":false},{"type":"batchnorm2d","eps":0.001,"momentum":0.5},
		  {"type":"avgpool2d","kernel":2,"padding":1},{"type":"adaptiveavgpool2d","out":[2,1]},{"type":"leakyrelu","negative_slope":0.2},
		  {"type":"flatten"},{"type":"linear","out":5},{"type":"batchnorm1d"},{"type":"gelu","approximate":"tanh"},{"type":"dropout","p":0.5},
		  {"type":"tanh"},{"type":"sigmoid"},{"type":"linear","bias":true}]`,
		`[{"type":"linear","out":3}]`,
		`[{"type":"flatten"},{"type":"conv2d","out":4,"kernel":3}]`,
		`[{"type":"maxpool2d","kernel":2,"padding":2}]`,
		`[{"type":"conv2d","out":2.5,"kernel":"3"}]`,
		`[{"type":"relu","out":null}]`,
		`[3, null, "x"]`,
		`{"layers": null}`,
		``, `[`, `{}`, `[{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseArch(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "models: architecture: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if len(a.Layers) == 0 {
			t.Fatal("accepted no layers")
		}
		s := Shape{Channels: 2, Height: 6, Width: 5, Classes: 3}
		st, err := a.build(s, rand.New(rand.NewPCG(1, 2)), 1<<14, 1<<12)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		g := autograd.NewTape()
		x := tensor.New(2, s.Channels, s.Height, s.Width).Normal(rand.New(rand.NewPCG(3, 4)), 0, 1)
		y := st.Forward(g, g.Const(x))
		if !y.Value().ShapeIs(2, s.Classes) {
			t.Fatalf("built for %d classes, logits %v", s.Classes, y.Shape())
		}
	})
}
