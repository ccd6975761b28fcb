package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
)

func TestSeedCNNStateDictNames(t *testing.T) {
	m, err := NewSeedCNN(Shape{3, 32, 32, 10}, 0.2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"conv1.weight": {32, 3, 5, 5}, "conv1.bias": {32}, "conv2.weight": {64, 32, 5, 5}, "conv2.bias": {64},
		"fc1.weight": {128, 1600}, "fc1.bias": {128}, "fc2.weight": {10, 128}, "fc2.bias": {10}}
	ps := nn.NamedParams(m)
	if len(ps) != len(want) {
		t.Fatalf("%d parameters, want %d", len(ps), len(want))
	}
	for _, p := range ps {
		if w, ok := want[p.Name]; !ok || fmt.Sprint(w) != fmt.Sprint(p.Var.Shape()) {
			t.Errorf("parameter %s %v, want %v", p.Name, p.Var.Shape(), w)
		}
	}
	if m.Params.Len() != 32*75+32+64*800+64+128*1600+128+1280+10 {
		t.Errorf("flat buffer holds %d values", m.Params.Len())
	}
}

func TestSeedCNNRejectsTinyImages(t *testing.T) {
	if _, err := NewSeedCNN(Shape{1, 12, 28, 10}, 0, rand.New(rand.NewPCG(1, 2))); err == nil {
		t.Error("12x28 images accepted")
	}
}

// TestSeedCNNMatchesPyTorch trains from PyTorch's initial weights on a fixed
// batch with Adam and compares every loss, and the final weights, with
// PyTorch's run of the same program.
func TestSeedCNNMatchesPyTorch(t *testing.T) {
	for _, c := range golden.Load(t, "seedcnn") {
		t.Run(c.Name, func(t *testing.T) {
			s := Shape{c.Int(t, "in_channels"), c.Int(t, "height"), c.Int(t, "width"), c.Int(t, "classes")}
			m, err := NewSeedCNN(s, 0, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range nn.NamedParams(m) {
				copy(p.Var.Data(), c.T(t, p.Name).Data)
			}
			betas := c.Floats(t, "betas")
			opt := optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: c.Float(t, "lr"), Beta1: betas[0], Beta2: betas[1], Eps: c.Float(t, "eps")})
			xg := c.T(t, "x")
			x := tensor.FromSlice(xg.Data, xg.Shape...)
			var target []int
			for _, v := range c.T(t, "target").Data {
				target = append(target, int(v))
			}
			loss := nn.NewCrossEntropyLoss()
			nn.SetTraining(m, true)
			g := autograd.NewTape()
			var losses []float32
			for step := 0; step < c.Int(t, "steps"); step++ {
				g.Reset()
				m.Params.ZeroGrad()
				logits := m.Forward(g, g.Const(x))
				if step == 0 {
					golden.Close(t, "initial logits", logits.Value().Values(), c.T(t, "y").Data, 1e-4, 1e-6)
				}
				l := loss.Forward(g, logits, target)
				g.Backward(l)
				if step == 0 {
					for _, p := range nn.NamedParams(m) {
						if c.Has("grad." + p.Name) {
							golden.Close(t, "initial grad."+p.Name, p.Var.Grad().Values(), c.T(t, "grad."+p.Name).Data, 1e-4, 1e-6)
						}
					}
				}
				losses = append(losses, l.Item())
				opt.Step()
			}
			golden.Close(t, "losses", losses, c.T(t, "loss").Data, 1e-4, 0)
			worst := 0.0
			for i, want := range c.T(t, "loss").Data {
				worst = math.Max(worst, math.Abs(float64(losses[i])-float64(want))/math.Abs(float64(want)))
			}
			t.Logf("%d losses, worst relative difference from PyTorch's %.2g", len(losses), worst)
			// Adam normalises each gradient by its own magnitude, so a weight
			// whose gradient is float noise moves by +-lr on either side; the
			// final weights are compared as a whole, by relative L2 distance.
			for _, p := range nn.NamedParams(m) {
				if c.Has("final." + p.Name) {
					d := relDist(p.Var.Data(), c.T(t, "final."+p.Name).Data)
					if d > 1e-3 {
						t.Errorf("final %s: relative L2 distance %.3g from PyTorch's", p.Name, d)
					}
					t.Logf("final %s: relative L2 distance %.3g", p.Name, d)
				}
			}
		})
	}
}

func relDist(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}
