package privacy

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
)

const in, hidden, classes = 6, 8, 4

// mlp returns Linear(6,8)-ReLU-Linear(8,4) and its packed parameters.
func mlp(seed uint64) (nn.Module, *nn.ParamSet) {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := nn.NewSequential(nn.NewLinear(in, hidden, true, rng), nn.NewReLU(), nn.NewLinear(hidden, classes, true, rng))
	return m, nn.Pack(m)
}

// batch returns n random examples; scale makes some gradients large so
// that clipping bites on some examples and not on others.
func batch(n int, seed uint64) *data.Batch {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := &data.Batch{X: make([]float32, n*in), Shape: []int{n, in}, Y: make([]int, n)}
	for i := range n {
		scale := float32(1 + 4*(i%3))
		for j := range in {
			b.X[i*in+j] = scale * float32(rng.NormFloat64())
		}
		b.Y[i] = rng.IntN(classes)
	}
	return b
}

// handGrad is one example's cross-entropy gradient of the MLP, written out
// by hand in float64, in the ParamSet's layout (0.weight, 0.bias,
// 2.weight, 2.bias).
func handGrad(ps *nn.ParamSet, x []float32, y int) []float64 {
	w1 := ps.Data[0 : hidden*in]
	b1 := ps.Data[hidden*in : hidden*in+hidden]
	o := hidden*in + hidden
	w2 := ps.Data[o : o+classes*hidden]
	b2 := ps.Data[o+classes*hidden:]
	h := make([]float64, hidden)
	for j := range hidden {
		h[j] = float64(b1[j])
		for k := range in {
			h[j] += float64(w1[j*in+k]) * float64(x[k])
		}
	}
	a := make([]float64, hidden)
	for j := range h {
		a[j] = math.Max(h[j], 0)
	}
	z := make([]float64, classes)
	zmax := math.Inf(-1)
	for c := range classes {
		z[c] = float64(b2[c])
		for j := range hidden {
			z[c] += float64(w2[c*hidden+j]) * a[j]
		}
		zmax = math.Max(zmax, z[c])
	}
	var s float64
	for c := range z {
		z[c] = math.Exp(z[c] - zmax)
		s += z[c]
	}
	dz := make([]float64, classes)
	for c := range z {
		dz[c] = z[c] / s
	}
	dz[y]--
	g := make([]float64, ps.Len())
	dh := make([]float64, hidden)
	for c := range classes {
		for j := range hidden {
			g[o+c*hidden+j] = dz[c] * a[j]
			if h[j] > 0 {
				dh[j] += float64(w2[c*hidden+j]) * dz[c]
			}
		}
		g[o+classes*hidden+c] = dz[c]
	}
	for j := range hidden {
		for k := range in {
			g[j*in+k] = dh[j] * float64(x[k])
		}
		g[hidden*in+j] = dh[j]
	}
	return g
}

func newDP(t *testing.T, m nn.Module, ps *nn.ParamSet, cfg DPConfig, seed uint64) *DPClassifier {
	t.Helper()
	opt := optim.NewSGD(ps.Data, ps.Grad, optim.SGDConfig{LR: 0.1})
	c, err := NewDPClassifier(m, ps, nil, opt, cfg, rand.New(rand.NewPCG(seed, 3)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPerSampleGradAgainstHandLoop checks the clipped, summed and averaged
// gradient against a per-example loop written by hand, to 1e-5.
func TestPerSampleGradAgainstHandLoop(t *testing.T) {
	const n, expected = 12, 10
	m, ps := mlp(1)
	b := batch(n, 5)
	grads := make([][]float64, n)
	norms := make([]float64, n)
	for i := range n {
		grads[i] = handGrad(ps, b.X[i*in:(i+1)*in], b.Y[i])
		for _, v := range grads[i] {
			norms[i] += v * v
		}
		norms[i] = math.Sqrt(norms[i])
	}
	C := slices.Clone(norms)
	slices.Sort(C)
	maxNorm := (C[n/2-1] + C[n/2]) / 2 // the median: half the examples are clipped
	want := make([]float64, ps.Len())
	clipped := 0
	for i, g := range grads {
		f := math.Min(1, maxNorm/(norms[i]+1e-6))
		if f < 1 {
			clipped++
		}
		for k, v := range g {
			want[k] += f * v / expected
		}
	}
	if clipped == 0 || clipped == n {
		t.Fatalf("%d of %d examples clipped: the test needs some of each", clipped, n)
	}
	c := newDP(t, m, ps, DPConfig{MaxGradNorm: maxNorm, SampleRate: 0.01, ExpectedBatch: expected}, 7)
	c.PrivateGrad(b)
	worst := 0.0
	for k := range want {
		worst = math.Max(worst, math.Abs(float64(ps.Grad[k])-want[k]))
	}
	if worst > 1e-5 {
		t.Errorf("largest difference from the hand-written loop %g, want <= 1e-5", worst)
	}
}

// TestUnclippedSumIsBatchGradient: without clipping, the per-example
// gradients add up to autograd's gradient of the summed batch loss.
func TestUnclippedSumIsBatchGradient(t *testing.T) {
	const n = 9
	m, ps := mlp(2)
	b := batch(n, 6)
	g := autograd.NewTape()
	var x tensor.Tensor
	x.Init(b.X, b.Shape...)
	loss := nn.NewCrossEntropyLoss()
	loss.Reduction = autograd.ReduceSum
	ps.ZeroGrad()
	g.Backward(loss.Forward(g, m.Forward(g, g.Const(&x)), b.Y))
	want := append([]float32(nil), ps.Grad...)
	c := newDP(t, m, ps, DPConfig{MaxGradNorm: 1e9, SampleRate: 0.5, ExpectedBatch: 1}, 1)
	c.PrivateGrad(b)
	for k := range want {
		if d := math.Abs(float64(ps.Grad[k] - want[k])); d > 1e-5*math.Max(1, math.Abs(float64(want[k]))) {
			t.Fatalf("grad[%d] = %v, batch gradient %v", k, ps.Grad[k], want[k])
		}
	}
}

// TestNoiseStd: the noise on the sum has standard deviation sigma*C, and
// the same seed gives the same noise.
func TestNoiseStd(t *testing.T) {
	const sigma, C, expected = 1.3, 0.5, 4
	m, ps := mlp(3)
	b := batch(5, 7)
	clean := newDP(t, m, ps, DPConfig{MaxGradNorm: C, SampleRate: 0.1, ExpectedBatch: expected}, 1)
	clean.PrivateGrad(b)
	base := append([]float32(nil), ps.Grad...)
	var draws []float64
	for seed := uint64(1); seed <= 20; seed++ {
		c := newDP(t, m, ps, DPConfig{MaxGradNorm: C, NoiseMultiplier: sigma, SampleRate: 0.1, ExpectedBatch: expected}, seed)
		c.PrivateGrad(b)
		if seed == 1 {
			again := newDP(t, m, ps, DPConfig{MaxGradNorm: C, NoiseMultiplier: sigma, SampleRate: 0.1, ExpectedBatch: expected}, seed)
			first := append([]float32(nil), ps.Grad...)
			again.PrivateGrad(b)
			for k := range first {
				if first[k] != ps.Grad[k] {
					t.Fatal("same seed, different noise")
				}
			}
		}
		for k := range base {
			draws = append(draws, float64(ps.Grad[k]-base[k])*expected)
		}
	}
	var mean, sq float64
	for _, d := range draws {
		mean += d
	}
	mean /= float64(len(draws))
	for _, d := range draws {
		sq += (d - mean) * (d - mean)
	}
	std := math.Sqrt(sq / float64(len(draws)-1))
	if math.Abs(std-sigma*C)/(sigma*C) > 0.05 || math.Abs(mean) > 0.05 {
		t.Errorf("noise mean %.4f std %.4f over %d draws, want 0 and %.4f", mean, std, len(draws), sigma*C)
	}
}

// TestClippingBoundsOneExample: however large one example's gradient, its
// contribution to the sum has norm at most C.
func TestClippingBoundsOneExample(t *testing.T) {
	m, ps := mlp(4)
	b := batch(1, 8)
	for i := range b.X {
		b.X[i] *= 1000
	}
	c := newDP(t, m, ps, DPConfig{MaxGradNorm: 0.25, SampleRate: 0.1, ExpectedBatch: 1}, 1)
	c.PrivateGrad(b)
	if norm := L2Norm(ps.Grad); norm > 0.25+1e-6 || norm < 0.2499 {
		t.Errorf("one large example contributes norm %v, want 0.25", norm)
	}
	empty := &data.Batch{Shape: []int{0, in}}
	c.Cfg.NoiseMultiplier = 1
	if loss, k := c.PrivateGrad(empty); loss != 0 || k != 0 || L2Norm(ps.Grad) == 0 {
		t.Errorf("empty batch: loss %v, correct %d, gradient norm %v: want noise alone", loss, k, L2Norm(ps.Grad))
	}
}

func TestTrainStepLearnsAndAccounts(t *testing.T) {
	m, ps := mlp(5)
	b := batch(64, 9)
	for i := range b.Y {
		if b.X[i*in] > 0 {
			b.Y[i] = 1
		} else {
			b.Y[i] = 0
		}
	}
	c := newDP(t, m, ps, DPConfig{MaxGradNorm: 1, NoiseMultiplier: 0.5, SampleRate: 0.05, ExpectedBatch: 64}, 2)
	first, _ := c.TrainStep(b)
	var last float32
	for range 60 {
		last, _ = c.TrainStep(b)
	}
	if !(last < first*0.7) {
		t.Errorf("loss %v after 61 DP-SGD steps, %v at first", last, first)
	}
	if c.Accountant.Steps() != 61 {
		t.Errorf("accountant recorded %d steps, want 61", c.Accountant.Steps())
	}
	got, _, _ := c.Accountant.Epsilon(1e-5)
	want, _, _ := Epsilon(0.05, 0.5, 61, 1e-5)
	if got != want {
		t.Errorf("accountant %v, Epsilon %v", got, want)
	}
}

func TestRefusesBatchNorm(t *testing.T) {
	m := nn.NewSequential(nn.NewLinear(3, 4, true, rand.New(rand.NewPCG(1, 1))), nn.NewBatchNorm1d(4))
	ps := nn.Pack(m)
	opt := optim.NewSGD(ps.Data, ps.Grad, optim.SGDConfig{LR: 0.1})
	if _, err := NewDPClassifier(m, ps, nil, opt, DPConfig{MaxGradNorm: 1, SampleRate: 0.1, ExpectedBatch: 1}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("batch norm accepted")
	}
}
