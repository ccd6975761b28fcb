package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// TestResNet8StateDict checks every state_dict entry of ResNet-8 against
// the names and shapes of the PyTorch module in testdata/make.py.
func TestResNet8StateDict(t *testing.T) {
	m, err := NewResNet(Shape{3, 32, 32, 10}, 8, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	bn := func(name string, c int) {
		for _, k := range []string{"weight", "bias", "running_mean", "running_var"} {
			want = append(want, fmt.Sprintf("%s.%s %v", name, k, []int{c}))
		}
		want = append(want, name+".num_batches_tracked []")
	}
	want = append(want, "conv1.weight [16 3 3 3]")
	bn("bn1", 16)
	for i, w := range []int{16, 32, 64} {
		in := max(16, w/2)
		p := fmt.Sprintf("layer%d.0.", i+1)
		want = append(want, fmt.Sprintf("%sconv1.weight %v", p, []int{w, in, 3, 3}))
		bn(p+"bn1", w)
		want = append(want, fmt.Sprintf("%sconv2.weight %v", p, []int{w, w, 3, 3}))
		bn(p+"bn2", w)
		if i > 0 {
			want = append(want, fmt.Sprintf("%sshortcut.0.weight %v", p, []int{w, in, 1, 1}))
			bn(p+"shortcut.1", w)
		}
	}
	want = append(want, "fc.weight [10 64]", "fc.bias [10]")
	ps := nn.NamedParams(m)
	var got []string
	for _, p := range ps {
		got = append(got, fmt.Sprintf("%s %v", p.Name, p.Var.Shape()))
		if isInt := strings.HasSuffix(p.Name, "num_batches_tracked"); p.Int != isInt || (p.Buffer != (isInt || strings.Contains(p.Name, "running_"))) {
			t.Errorf("%s: Buffer %v Int %v", p.Name, p.Buffer, p.Int)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("state_dict\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m.Params.Len() != 78042 {
		t.Errorf("%d trainable values, want 78042 (PyTorch's count)", m.Params.Len())
	}
}

func TestResNetDepths(t *testing.T) {
	// Trainable value counts from PyTorch (testdata/make.py's ResNet, 3
	// channels, 10 classes). ResNet-20 with option A shortcuts has 269722;
	// the projections add 16*32 + 32*64 weights and 2*(32+64) BN values.
	for _, tc := range []struct{ depth, params, blocks int }{{8, 78042, 1}, {14, 175258, 2}, {20, 272474, 3}} {
		m, err := NewResNet(Shape{3, 32, 32, 10}, tc.depth, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if m.Params.Len() != tc.params || m.Layers[2].Layers == nil || len(m.Layers[2].Layers) != tc.blocks {
			t.Errorf("resnet%d: %d values, %d blocks per stage; want %d, %d", tc.depth, m.Params.Len(), len(m.Layers[2].Layers), tc.params, tc.blocks)
		}
	}
	for _, d := range []int{0, 2, 7, 9, 21, -4} {
		if _, err := NewResNet(Shape{3, 32, 32, 10}, d, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("depth %d accepted", d)
		}
	}
	if _, err := NewResNet(Shape{0, 32, 32, 10}, 8, rand.New(rand.NewPCG(1, 2))); err == nil {
		t.Error("0 channels accepted")
	}
}

// TestResNetAnyImageSize runs ResNet-8 on odd and tiny sizes in both modes.
func TestResNetAnyImageSize(t *testing.T) {
	for _, s := range []Shape{{1, 8, 8, 2}, {3, 9, 9, 4}, {2, 33, 17, 3}, {1, 1, 5, 2}} {
		m, err := NewResNet(s, 8, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		for _, train := range []bool{true, false} {
			nn.SetTraining(m, train)
			g := autograd.NewTape()
			x := tensor.New(3, s.Channels, s.Height, s.Width).Normal(rand.New(rand.NewPCG(3, 4)), 0, 1)
			y := m.Forward(g, g.Const(x))
			if !y.Value().ShapeIs(3, s.Classes) {
				t.Errorf("%v train=%v: logits %v", s, train, y.Shape())
			}
			for _, v := range y.Value().Values() {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%v train=%v: logit %v", s, train, v)
				}
			}
		}
	}
}

func TestBasicBlockShortcut(t *testing.T) {
	for _, tc := range []struct {
		in, out, stride int
		projection      bool
	}{{16, 16, 1, false}, {16, 32, 1, true}, {16, 16, 2, true}, {32, 64, 2, true}} {
		b := NewBasicBlock(tc.in, tc.out, tc.stride, rand.New(rand.NewPCG(1, 2)))
		if (b.Shortcut != nil) != tc.projection {
			t.Errorf("%+v: shortcut %v", tc, b.Shortcut)
		}
		names := 0
		for _, p := range nn.NamedParams(b) {
			if strings.HasPrefix(p.Name, "shortcut.") {
				names++
			}
		}
		if tc.projection && names != 6 || !tc.projection && names != 0 {
			t.Errorf("%+v: %d shortcut entries", tc, names)
		}
	}
}

// TestBasicBlockIsResidual checks the block's arithmetic: with conv2's
// weight zeroed and BN2's bias 0, an identity block is relu(x).
func TestBasicBlockIsResidual(t *testing.T) {
	b := NewBasicBlock(4, 4, 1, rand.New(rand.NewPCG(1, 2)))
	b.Conv2.Weight.Value().Fill(0)
	g := autograd.NewTape()
	x := tensor.New(2, 4, 5, 5).Normal(rand.New(rand.NewPCG(3, 4)), 0, 1)
	y := b.Forward(g, g.Const(x))
	for i, v := range x.Values() {
		if want := max(v, 0); y.Value().Values()[i] != want {
			t.Fatalf("y[%d] = %v, want relu(%v)", i, y.Value().Values()[i], v)
		}
	}
}

// TestResNetHeInit checks the convolution weights' spread against
// kaiming_normal_(mode="fan_out"), and BatchNorm's starting values.
func TestResNetHeInit(t *testing.T) {
	m, _ := NewResNet(Shape{3, 32, 32, 10}, 8, rand.New(rand.NewPCG(1, 2)))
	for _, tc := range []struct {
		name   string
		fanOut int
	}{{"layer3.0.conv2.weight", 64 * 9}, {"layer2.0.conv1.weight", 32 * 9}, {"layer3.0.shortcut.0.weight", 64}} {
		p, ok := m.Params.Lookup(tc.name)
		if !ok {
			t.Fatalf("no %s", tc.name)
		}
		var ss float64
		d := p.Var.Data()
		for _, v := range d {
			ss += float64(v) * float64(v)
		}
		std, want := math.Sqrt(ss/float64(len(d))), math.Sqrt(2/float64(tc.fanOut))
		if math.Abs(std/want-1) > 0.05 {
			t.Errorf("%s: std %.4f, want %.4f", tc.name, std, want)
		}
	}
	for _, name := range []string{"bn1.weight", "layer2.0.shortcut.1.bias"} {
		p, _ := m.Params.Lookup(name)
		want := float32(0)
		if strings.HasSuffix(name, "weight") {
			want = 1
		}
		for _, v := range p.Var.Data() {
			if v != want {
				t.Fatalf("%s holds %v, want %v", name, v, want)
			}
		}
	}
}
