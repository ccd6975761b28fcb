package privacy

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
)

// zooModel builds one of kiln's models for 28x28 grey images of 10
// classes, in evaluation mode (seed-cnn's dropout would draw its masks per
// example in the loop and once per batch otherwise).
func zooModel(t testing.TB, name string, seed uint64) models.Model {
	t.Helper()
	m, err := models.New(name, models.Shape{Channels: 1, Height: 28, Width: 28, Classes: 10}, rand.New(rand.NewPCG(seed, 9)))
	if err != nil {
		t.Fatal(err)
	}
	nn.SetTraining(m, false)
	return m
}

// images returns n random 1x28x28 images with labels.
func images(n int, seed uint64) *data.Batch {
	rng := rand.New(rand.NewPCG(seed, 4))
	b := &data.Batch{X: make([]float32, n*28*28), Shape: []int{n, 1, 28, 28}, Y: make([]int, n)}
	for i := range b.X {
		b.X[i] = float32(rng.NormFloat64())
	}
	for i := range b.Y {
		b.Y[i] = rng.IntN(10)
	}
	return b
}

// loopGrads is the per-example reference: each example's own forward and
// backward pass, as DPClassifier's loop runs them.
func loopGrads(m nn.Module, ps *nn.ParamSet, b *data.Batch) [][]float32 {
	g := autograd.NewTape()
	loss := nn.NewCrossEntropyLoss()
	n := len(b.Y)
	size := len(b.X) / n
	out := make([][]float32, n)
	var x tensor.Tensor
	for i := range n {
		g.Reset()
		x.Init(b.X[i*size:(i+1)*size], append([]int{1}, b.Shape[1:]...)...)
		ps.ZeroGrad()
		g.Backward(loss.Forward(g, m.Forward(g, g.Const(&x)), b.Y[i:i+1]))
		out[i] = slices.Clone(ps.Grad)
	}
	return out
}

// worstRel returns the largest |got-want| / max(1, |want|).
func worstRel(got, want []float32) float64 {
	w := 0.0
	for k := range want {
		w = math.Max(w, math.Abs(float64(got[k]-want[k]))/math.Max(1, math.Abs(float64(want[k]))))
	}
	return w
}

// TestPerSampleGradsMatchLoop: the per-example gradients of one batched
// backward equal those of a backward per example, to 1e-5, on the zoo's
// models that DP-SGD trains.
func TestPerSampleGradsMatchLoop(t *testing.T) {
	for i, name := range []string{"mlp", "seed-cnn", "lenet5"} {
		t.Run(name, func(t *testing.T) {
			m := zooModel(t, name, uint64(i))
			ps := m.ParamSet()
			b := images(6, uint64(i))
			if err := Vectorisable(m, nil); err != nil {
				t.Fatal(err)
			}
			got, err := PerSampleGrads(m, ps, b)
			if err != nil {
				t.Fatal(err)
			}
			want := loopGrads(m, ps, b)
			for k := range want {
				if L2Norm(want[k]) == 0 {
					t.Fatalf("example %d has a zero gradient: the test would prove nothing", k)
				}
				if w := worstRel(got[k], want[k]); w > 1e-5 {
					t.Errorf("example %d: largest difference %g, want <= 1e-5", k, w)
				}
			}
		})
	}
}

// TestVectorisedStepMatchesLoop: the clipped, noised DP-SGD gradient of
// the vectorised path equals the loop's with the same noise seed, with a
// clipping norm that clips some examples and not others.
func TestVectorisedStepMatchesLoop(t *testing.T) {
	for i, name := range []string{"mlp", "seed-cnn", "lenet5"} {
		t.Run(name, func(t *testing.T) {
			m := zooModel(t, name, uint64(10+i))
			ps := m.ParamSet()
			b := images(8, uint64(10+i))
			norms := make([]float64, len(b.Y))
			for k, g := range loopGrads(m, ps, b) {
				norms[k] = L2Norm(g)
			}
			slices.Sort(norms)
			cfg := DPConfig{MaxGradNorm: norms[len(norms)/2], NoiseMultiplier: 0.7, SampleRate: 0.01, ExpectedBatch: 8}
			opt := optim.NewSGD(ps.Data, ps.Grad, optim.SGDConfig{LR: 0.1})
			vec, err := NewDPClassifier(m, ps, nil, opt, cfg, rand.New(rand.NewPCG(3, 3)))
			if err != nil {
				t.Fatal(err)
			}
			if ok, why := vec.Vectorised(); !ok {
				t.Fatalf("%s not vectorised: %v", name, why)
			}
			loop, _ := NewDPClassifier(m, ps, nil, opt, cfg, rand.New(rand.NewPCG(3, 3)))
			loop.vec = nil
			lv, kv := vec.PrivateGrad(b)
			got := slices.Clone(ps.Grad)
			if ok, why := vec.Vectorised(); !ok {
				t.Fatalf("%s fell back to the loop: %v", name, why)
			}
			ll, kl := loop.PrivateGrad(b)
			if w := worstRel(got, ps.Grad); w > 1e-5 {
				t.Errorf("largest difference from the loop's step %g, want <= 1e-5", w)
			}
			if math.Abs(float64(lv-ll)) > 1e-5 || kv != kl {
				t.Errorf("loss %v and %d correct, the loop's %v and %d", lv, kv, ll, kl)
			}
		})
	}
}

// scaled is a layer with a parameter of its own that is neither Linear
// nor Conv2d: y = x * s, element-wise.
type scaled struct{ s *autograd.Var }

func (l *scaled) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var { return g.Mul(x, l.s) }
func (l *scaled) OwnParams() []nn.Param                                   { return []nn.Param{{Name: "s", Var: l.s}} }

// tied reads its Linear's weight a second time outside the Linear op,
// which no module walk can see.
type tied struct{ fc *nn.Linear }

func (m *tied) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	y := m.fc.Forward(g, x)
	return g.Add(y, g.Mul(g.SumAll(m.fc.Weight), g.Const(tensor.Full(0.1, 1))))
}
func (m *tied) Children() []nn.Child { return []nn.Child{{Name: "fc", Module: m.fc}} }

// TestFallsBackToLoop: a model with another layer holding parameters is
// refused by Vectorisable and trained by the loop; a Linear weight read
// outside its Linear is caught on the first step, which the loop redoes.
// Both give the hand-checked loop's gradient.
func TestFallsBackToLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	s := autograd.NewVar(tensor.Full(1.5, in), true)
	other := nn.NewSequential(&scaled{s}, nn.NewLinear(in, classes, true, rng))
	tiedM := &tied{nn.NewLinear(in, classes, true, rng)}
	for _, c := range []struct {
		name       string
		m          nn.Module
		vectorised bool
	}{{"own parameter", other, false}, {"tied weight", tiedM, true}} {
		t.Run(c.name, func(t *testing.T) {
			ps := nn.Pack(c.m)
			b := batch(5, 3)
			cfg := DPConfig{MaxGradNorm: 0.5, SampleRate: 0.1, ExpectedBatch: 5}
			dp := newDP(t, c.m, ps, cfg, 1)
			if ok, why := dp.Vectorised(); ok != c.vectorised || ok == (why != nil) {
				t.Fatalf("Vectorised() = %v, %v before the first step", ok, why)
			}
			dp.PrivateGrad(b)
			got := slices.Clone(ps.Grad)
			if ok, why := dp.Vectorised(); ok || why == nil {
				t.Fatalf("Vectorised() = %v, %v after the first step: want the loop and why", ok, why)
			}
			want := make([]float32, ps.Len())
			for _, g := range loopGrads(c.m, ps, b) {
				AccumulateClipped(want, g, cfg.MaxGradNorm)
			}
			for k := range want {
				want[k] /= 5
			}
			if w := worstRel(got, want); w > 1e-6 {
				t.Errorf("largest difference from the per-example loop %g", w)
			}
		})
	}
}

// BenchmarkDPStep times one DP-SGD gradient (PrivateGrad) of a batch of
// 64 Fashion-MNIST-sized images, by the per-example loop and vectorised,
// beside the ordinary (non-private) batch gradient for reference.
func BenchmarkDPStep(b *testing.B) {
	for _, name := range []string{"mlp", "lenet5", "seed-cnn"} {
		for _, path := range []string{"loop", "vectorised", "non-private"} {
			b.Run(name+"/"+path, func(b *testing.B) {
				m := zooModel(b, name, 1)
				ps := m.ParamSet()
				batch := images(64, 1)
				opt := optim.NewSGD(ps.Data, ps.Grad, optim.SGDConfig{LR: 0.1})
				c, err := NewDPClassifier(m, ps, nil, opt, DPConfig{MaxGradNorm: 1, NoiseMultiplier: 1, SampleRate: 0.01, ExpectedBatch: 64}, rand.New(rand.NewPCG(1, 1)))
				if err != nil {
					b.Fatal(err)
				}
				step := func() { c.PrivateGrad(batch) }
				switch path {
				case "loop":
					c.vec = nil
				case "non-private":
					g, loss := autograd.NewTape(), nn.NewCrossEntropyLoss()
					var x tensor.Tensor
					step = func() {
						g.Reset()
						x.Init(batch.X, batch.Shape...)
						ps.ZeroGrad()
						g.Backward(loss.Forward(g, m.Forward(g, g.Const(&x)), batch.Y))
					}
				}
				step()
				b.ResetTimer()
				for b.Loop() {
					step()
				}
				b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "img/s")
			})
		}
	}
}
