package nn_test

import (
	"math"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests nn.BatchNorm: against PyTorch, against finite
// differences, and the running-statistics bookkeeping PyTorch does in the
// module (the batch counter, momentum=None, track_running_stats=False).

func coreNewBN(kind string, c int, o nn.BatchNormOptions) *nn.BatchNorm {
	if kind == "BatchNorm1d" {
		return nn.NewBatchNorm1d(c, o)
	}
	return nn.NewBatchNorm2d(c, o)
}

func TestBatchNormGolden(t *testing.T) {
	for _, c := range golden.Load(t, "batchnorm") {
		t.Run(c.Name, func(t *testing.T) {
			if !c.Bool(t, "track_running_stats") {
				t.Fatal("case without running statistics: extend this test")
			}
			b := coreNewBN(c.String(t, "kind"), c.Int(t, "num_features"), nn.BatchNormOptions{
				Eps:      float32(c.Float(t, "eps")),
				Momentum: float32(c.Float(t, "momentum")),
				NoAffine: !c.Bool(t, "affine"),
			})
			training := c.Bool(t, "training")
			b.SetTraining(training)
			coreLoad(t, c, b)
			n := coreGolden(t, c, b, 1e-4, 1e-5)
			want := 4 // y, grad.x, after.running_mean, after.running_var
			if c.Bool(t, "affine") {
				want += 2
			}
			if n != want {
				t.Errorf("compared %d tensors, want %d", n, want)
			}
			wantCount := float32(0)
			if training {
				wantCount = 1
			}
			if got := b.NumBatchesTracked.Item(); got != wantCount {
				t.Errorf("num_batches_tracked %v, want %v", got, wantCount)
			}
		})
	}
}

func TestBatchNormGradients(t *testing.T) {
	cases := []struct {
		name     string
		kind     string
		x        []int
		o        nn.BatchNormOptions
		training bool
	}{
		{"1d-nc-train", "BatchNorm1d", []int{5, 3}, nn.BatchNormOptions{}, true},
		{"1d-ncl-train-noaffine", "BatchNorm1d", []int{3, 2, 4}, nn.BatchNormOptions{NoAffine: true}, true},
		{"2d-train", "BatchNorm2d", []int{2, 3, 2, 3}, nn.BatchNormOptions{}, true},
		{"2d-train-nostats", "BatchNorm2d", []int{2, 2, 3, 2}, nn.BatchNormOptions{NoRunningStats: true}, true},
		{"2d-eval-nostats", "BatchNorm2d", []int{2, 2, 3, 2}, nn.BatchNormOptions{NoRunningStats: true}, false},
		{"1d-nc-eval", "BatchNorm1d", []int{4, 3}, nn.BatchNormOptions{}, false},
		{"2d-eval-noaffine", "BatchNorm2d", []int{2, 3, 2, 2}, nn.BatchNormOptions{NoAffine: true, Eps: 1e-3}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := c.x[1]
			b := coreNewBN(c.kind, ch, c.o)
			b.SetTraining(c.training)
			if b.RunningMean != nil {
				copy(b.RunningMean.Data(), autogradtest.Rand(5, -0.5, 0.5, ch).Data())
				copy(b.RunningVar.Data(), autogradtest.Rand(6, 0.5, 1.5, ch).Data())
			}
			in := []*tensor.Tensor{autogradtest.Rand(1, -1, 2, c.x...)}
			if !c.o.NoAffine {
				in = append(in, autogradtest.Rand(2, 0.5, 1.5, ch), autogradtest.Rand(3, -1, 1, ch))
			}
			f := func(g *coreT, v []*coreV) *coreV {
				if !c.o.NoAffine {
					b.Weight, b.Bias = v[1], v[2]
				}
				return b.Forward(g, v[0])
			}
			autogradtest.Check(t, f, in, autogradtest.Options{})
		})
	}
}

// TestBatchNormRunningStats follows the running statistics over three
// batches with exponential and cumulative averaging, against the
// definitions, and checks that evaluation leaves them alone.
func TestBatchNormRunningStats(t *testing.T) {
	const c = 3
	batches := []*tensor.Tensor{
		autogradtest.Rand(1, -1, 3, 4, c, 2),
		autogradtest.Rand(2, -2, 1, 4, c, 2),
		autogradtest.Rand(3, 0, 5, 4, c, 2),
	}
	// Per batch and channel: mean and unbiased variance over 8 values.
	moments := func(x *tensor.Tensor, ch int) (float64, float64) {
		var vals []float64
		for n := 0; n < 4; n++ {
			for l := 0; l < 2; l++ {
				vals = append(vals, float64(x.At(n, ch, l)))
			}
		}
		var s, ss float64
		for _, v := range vals {
			s += v
		}
		mean := s / 8
		for _, v := range vals {
			ss += (v - mean) * (v - mean)
		}
		return mean, ss / 7
	}
	for _, cma := range []bool{false, true} {
		b := nn.NewBatchNorm1d(c, nn.BatchNormOptions{Momentum: 0.3, CumulativeAverage: cma})
		wantM, wantV := []float64{0, 0, 0}, []float64{1, 1, 1}
		for k, x := range batches {
			g := autograd.NewTape()
			g.SetGradEnabled(k != 1) // the update does not depend on recording
			b.Forward(g, g.Const(x))
			mom := 0.3
			if cma {
				mom = 1 / float64(k+1)
			}
			for ch := 0; ch < c; ch++ {
				m, v := moments(x, ch)
				wantM[ch] = (1-mom)*wantM[ch] + mom*m
				wantV[ch] = (1-mom)*wantV[ch] + mom*v
			}
		}
		for ch := 0; ch < c; ch++ {
			gm, gv := float64(b.RunningMean.Data()[ch]), float64(b.RunningVar.Data()[ch])
			if math.Abs(gm-wantM[ch]) > 1e-5 || math.Abs(gv-wantV[ch]) > 1e-5 {
				t.Errorf("cma=%v channel %d: running (%g, %g), want (%g, %g)", cma, ch, gm, gv, wantM[ch], wantV[ch])
			}
		}
		if got := b.NumBatchesTracked.Item(); got != 3 {
			t.Errorf("cma=%v: num_batches_tracked %v, want 3", cma, got)
		}
		if cma { // with three batches, the plain average of the means
			var avg float64
			for _, x := range batches {
				m, _ := moments(x, 0)
				avg += m / 3
			}
			if math.Abs(float64(b.RunningMean.Data()[0])-avg) > 1e-5 {
				t.Errorf("cumulative running mean %v, want the average %v", b.RunningMean.Data()[0], avg)
			}
		}

		// Evaluation normalises with the running statistics and changes nothing.
		b.SetTraining(false)
		before := b.RunningMean.Value().Clone()
		g := autograd.NewTape()
		x := batches[0]
		y := b.Forward(g, g.Const(x))
		for i := 0; i < 4; i++ {
			for ch := 0; ch < c; ch++ {
				want := (float64(x.At(i, ch, 1)) - wantM[ch]) / math.Sqrt(wantV[ch]+1e-5)
				if got := float64(y.Value().At(i, ch, 1)); math.Abs(got-want) > 1e-4 {
					t.Errorf("cma=%v eval y[%d,%d,1] = %g, want %g", cma, i, ch, got, want)
				}
			}
		}
		if b.NumBatchesTracked.Item() != 3 || b.RunningMean.Data()[1] != before.Data()[1] {
			t.Error("evaluation changed the running statistics")
		}
	}
}

// TestBatchNormNoRunningStats checks track_running_stats=False: no buffers,
// and batch statistics in evaluation mode too.
func TestBatchNormNoRunningStats(t *testing.T) {
	b := nn.NewBatchNorm2d(2, nn.BatchNormOptions{NoRunningStats: true})
	b.SetTraining(false)
	g := autograd.NewTape()
	y := b.Forward(g, g.Const(autogradtest.Rand(1, 4, 9, 3, 2, 2, 2)))
	var s float64
	for n := 0; n < 3; n++ {
		for i := 0; i < 2; i++ {
			for j := 0; j < 2; j++ {
				s += float64(y.Value().At(n, 1, i, j))
			}
		}
	}
	if math.Abs(s/12) > 1e-5 {
		t.Errorf("channel mean %g after normalising with batch statistics, want 0", s/12)
	}
	if b.RunningMean != nil || len(b.OwnParams()) != 2 {
		t.Errorf("buffers without tracking: %d params", len(b.OwnParams()))
	}
}

// TestBatchNormParams checks state_dict names, flags and initial values
// against PyTorch's freshly built BatchNorm2d(8).
func TestBatchNormParams(t *testing.T) {
	var c golden.Case
	for _, gc := range golden.Load(t, "init") {
		if gc.Name == "batchnorm2d_8" {
			c = gc
		}
	}
	if c.Name == "" {
		t.Fatal("init golden has no batchnorm2d_8")
	}
	m := nn.NewSequential(nn.NewBatchNorm2d(8), nn.NewBatchNorm1d(8, nn.BatchNormOptions{NoAffine: true}))
	ps := nn.NamedParams(m)
	names := []string{"0.weight", "0.bias", "0.running_mean", "0.running_var", "0.num_batches_tracked",
		"1.running_mean", "1.running_var", "1.num_batches_tracked"}
	if len(ps) != len(names) {
		t.Fatalf("%d params, want %d", len(ps), len(names))
	}
	for i, p := range ps {
		buffer := i >= 2
		if p.Name != names[i] || p.Buffer != buffer || p.Int != (p.Name[2:] == "num_batches_tracked") || p.Var.RequiresGrad() == buffer {
			t.Errorf("param %d: %+v, want %s", i, p, names[i])
		}
	}
	for _, p := range ps[:4] {
		golden.Close(t, p.Name, p.Var.Data(), c.T(t, p.Name[2:]).Data, 0, 0)
	}
	if n := ps[4].Var.Value(); n.NDim() != 0 || n.Item() != 0 {
		t.Errorf("num_batches_tracked %v, want a 0-d zero", n)
	}
	// Pack moves only the trainable parameters.
	if ps := nn.Pack(m); ps.Len() != 16 {
		t.Errorf("Pack holds %d values, want 16", ps.Len())
	}
}

// TestBatchNormPanics checks the input checks PyTorch also makes.
func TestBatchNormPanics(t *testing.T) {
	cases := []struct {
		name string
		m    *nn.BatchNorm
		x    []int
	}{
		{"1d of 4d", nn.NewBatchNorm1d(3), []int{2, 3, 2, 2}},
		{"2d of 3d", nn.NewBatchNorm2d(3), []int{2, 3, 4}},
		{"channels", nn.NewBatchNorm2d(3, nn.BatchNormOptions{NoAffine: true, NoRunningStats: true}), []int{2, 4, 2, 2}},
		{"one value per channel", nn.NewBatchNorm1d(3), []int{1, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			g := autograd.NewTape()
			c.m.Forward(g, g.Const(tensor.New(c.x...)))
		})
	}
}
