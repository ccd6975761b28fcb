package nn_test

import (
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/nn"
)

// This file checks the core layers together: a training step on a reused
// tape reaches a steady state without heap allocation, and the same stack's
// cost is measured in a benchmark.

func coreStack() (*nn.Sequential, *nn.ParamSet) {
	m := nn.NewSequential(
		nn.NewLinear(16, 32, true, coreRng(1)),
		nn.NewBatchNorm1d(32),
		nn.NewReLU(),
		nn.NewDropout(0.5, coreRng(2)),
		nn.NewLinear(32, 4, true, coreRng(3)),
		nn.NewLogSoftmax(1),
	)
	return m, nn.Pack(m)
}

// TestStackAllocs runs forward and backward of Linear+BatchNorm1d+ReLU+
// Dropout+Linear+LogSoftmax on one tape, Reset between steps, and requires
// zero allocations per step after warm-up, in training and in evaluation
// (no-grad) mode.
func TestStackAllocs(t *testing.T) {
	m, ps := coreStack()
	x := autogradtest.Rand(4, -1, 1, 8, 16)
	targets := []int{0, 1, 2, 3, 3, 2, 1, 0}
	g := autograd.NewTape()
	train := func() {
		g.Reset()
		ps.ZeroGrad()
		logp := m.Forward(g, g.Const(x))
		g.Backward(g.NLL(logp, targets, autograd.NLLOptions{IgnoreIndex: -100}))
	}
	eval := func() {
		g.Reset()
		prev := g.SetGradEnabled(false)
		m.Forward(g, g.Const(x))
		g.SetGradEnabled(prev)
	}
	for _, c := range []struct {
		name     string
		training bool
		step     func()
	}{{"train", true, train}, {"eval", false, eval}} {
		nn.SetTraining(m, c.training)
		for range 3 {
			c.step()
		}
		if n := testing.AllocsPerRun(50, c.step); n != 0 {
			t.Errorf("%s: %v allocations per step, want 0", c.name, n)
		}
	}
	var nonzero bool
	for _, v := range ps.Grad {
		nonzero = nonzero || v != 0
	}
	if !nonzero {
		t.Error("the training step produced no gradient")
	}
}

// BenchmarkStackStep times one training step of the coreStack model on a
// batch of 64.
func BenchmarkStackStep(b *testing.B) {
	m, ps := coreStack()
	x := autogradtest.Rand(4, -1, 1, 64, 16)
	targets := make([]int, 64)
	for i := range targets {
		targets[i] = i % 4
	}
	g := autograd.NewTape()
	b.ReportAllocs()
	for b.Loop() {
		g.Reset()
		ps.ZeroGrad()
		logp := m.Forward(g, g.Const(x))
		g.Backward(g.NLL(logp, targets, autograd.NLLOptions{IgnoreIndex: -100}))
	}
}
