package nn_test

import (
	"math"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests nn.Dropout: the drop rate and scaling in training, the
// identity in evaluation, the gradient, and that the generator makes runs
// reproducible.

func TestDropoutTraining(t *testing.T) {
	const n = 100_000
	x := autogradtest.Rand(1, 1, 2, n)
	for _, p := range []float32{0.2, 0.5} {
		d := nn.NewDropout(p, coreRng(1))
		g := autograd.NewTape()
		y := d.Forward(g, g.Const(x))
		zeros := 0
		for i, v := range y.Data() {
			switch {
			case v == 0:
				zeros++
			case v != x.Data()[i]*(1/(1-p)):
				t.Fatalf("p=%v: kept element %d = %v, want %v scaled by 1/(1-p)", p, i, v, x.Data()[i])
			}
		}
		sd := math.Sqrt(float64(p) * float64(1-p) / n)
		if frac := float64(zeros) / n; math.Abs(frac-float64(p)) > 6*sd {
			t.Errorf("p=%v: zeroed fraction %.4f", p, frac)
		}
	}
}

// TestDropoutIdentity checks evaluation mode and p = 0: the input itself
// comes back, and gradients pass unchanged.
func TestDropoutIdentity(t *testing.T) {
	eval := nn.NewDropout(0.5, coreRng(1))
	nn.SetTraining(nn.NewSequential(eval), false)
	if eval.Training() {
		t.Fatal("SetTraining(false) did not reach the layer")
	}
	for name, d := range map[string]*nn.Dropout{"eval": eval, "p=0": nn.NewDropout(0, nil)} {
		g := autograd.NewTape()
		x := autograd.NewVar(autogradtest.Rand(1, -1, 1, 4, 5), true)
		if y := d.Forward(g, x); y != x {
			t.Errorf("%s: Forward did not return its input", name)
		}
	}
	// p = 1 zeroes everything, as in PyTorch.
	g := autograd.NewTape()
	for _, v := range nn.NewDropout(1, coreRng(1)).Forward(g, g.Const(tensor.Full(3, 10))).Data() {
		if v != 0 {
			t.Fatalf("p=1 kept %v", v)
		}
	}
}

// TestDropoutGradient checks the gradient through a fixed mask: the layer
// gets a fresh generator with the same seed on every call.
func TestDropoutGradient(t *testing.T) {
	d := nn.NewDropout(0.4, coreRng(1))
	f := func(g *coreT, v []*coreV) *coreV {
		d.Rng = coreRng(7)
		return g.Tanh(d.Forward(g, v[0]))
	}
	autogradtest.Check(t, f, []*tensor.Tensor{autogradtest.Rand(1, -1, 1, 3, 6)}, autogradtest.Options{})
}

// TestDropoutReproducible checks that the masks are a function of the
// generator's seed and advance from call to call.
func TestDropoutReproducible(t *testing.T) {
	mask := func(d *nn.Dropout) []float32 {
		g := autograd.NewTape()
		return d.Forward(g, g.Const(tensor.Full(1, 64))).Value().Clone().Data()
	}
	a, b := nn.NewDropout(0.5, coreRng(3)), nn.NewDropout(0.5, coreRng(3))
	a1, a2, b1 := mask(a), mask(a), mask(b)
	same, advanced := true, false
	for i := range a1 {
		same = same && a1[i] == b1[i]
		advanced = advanced || a1[i] != a2[i]
	}
	if !same || !advanced {
		t.Errorf("same seed same mask %v, second call new mask %v; want both", same, advanced)
	}
}

func TestDropoutPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"p<0":    func() { nn.NewDropout(-0.1, coreRng(1)) },
		"p>1":    func() { nn.NewDropout(1.1, coreRng(1)) },
		"no rng": func() { nn.NewDropout(0.5, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
