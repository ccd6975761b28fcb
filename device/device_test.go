package device_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train"
)

// zooCase is a model the device path compiles, with a data shape it fits.
type zooCase struct {
	name  string
	shape models.Shape
	arch  string // an architecture file instead of a zoo name
}

var zoo = []zooCase{
	{name: "seed-cnn", shape: models.Shape{Channels: 3, Height: 16, Width: 16, Classes: 5}},
	{name: "mlp", shape: models.Shape{Channels: 1, Height: 6, Width: 5, Classes: 4}},
	{name: "lenet5", shape: models.Shape{Channels: 1, Height: 14, Width: 14, Classes: 3}},
	{name: "arch", shape: models.Shape{Channels: 2, Height: 9, Width: 9, Classes: 3},
		arch: `[{"type":"conv2d","out":4,"kernel":3,"padding":1,"stride":2},{"type":"relu"},{"type":"maxpool2d","kernel":2},
			{"type":"dropout","p":0.3},{"type":"flatten"},{"type":"linear","out":7},{"type":"relu"},{"type":"linear"}]`},
	{name: "resnet8", shape: models.Shape{Channels: 3, Height: 8, Width: 8, Classes: 4}},
	{name: "arch-bn", shape: models.Shape{Channels: 2, Height: 7, Width: 7, Classes: 3},
		arch: `[{"type":"batchnorm2d","momentum":0.3},{"type":"conv2d","out":5,"kernel":3,"bias":false},{"type":"batchnorm2d","eps":0.001},
			{"type":"relu"},{"type":"adaptiveavgpool2d","out":[2,3]},{"type":"flatten"},{"type":"linear","out":6},
			{"type":"batchnorm1d"},{"type":"relu"},{"type":"linear"}]`},
	{name: "arch-act", shape: models.Shape{Channels: 2, Height: 8, Width: 8, Classes: 3},
		arch: `[{"type":"conv2d","out":4,"kernel":3,"padding":1},{"type":"tanh"},{"type":"avgpool2d","kernel":3,"stride":2,"padding":1},
			{"type":"conv2d","out":3,"kernel":1},{"type":"sigmoid"},{"type":"avgpool2d","kernel":2},{"type":"flatten"},
			{"type":"linear","out":6},{"type":"tanh"},{"type":"linear","out":5},{"type":"sigmoid"},{"type":"linear"}]`},
}

// build makes zc's model from seed; the same seed gives the same weights
// and dropout generators.
func build(t *testing.T, zc zooCase, seed uint64) models.Model {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 5))
	if zc.arch != "" {
		a, err := models.ParseArch([]byte(zc.arch))
		if err != nil {
			t.Fatal(err)
		}
		m, err := a.Build(zc.shape, rng)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m, err := models.New(zc.name, zc.shape, rng)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// batches draws steps batches of the given sizes for shape s.
func batches(s models.Shape, sizes []int, seed uint64) []*data.Batch {
	rng := rand.New(rand.NewPCG(seed, 9))
	var out []*data.Batch
	for _, n := range sizes {
		b := &data.Batch{X: make([]float32, n*s.Channels*s.Height*s.Width), Y: make([]int, n),
			Shape: []int{n, s.Channels, s.Height, s.Width}}
		for i := range b.X {
			b.X[i] = float32(rng.NormFloat64())
		}
		for i := range b.Y {
			b.Y[i] = rng.IntN(s.Classes)
		}
		out = append(out, b)
	}
	return out
}

// optimizers are the update rules compared: optim's own, and the
// settings that make the device's equal.
var optimizers = []struct {
	name string
	host func(p, g []float32) optim.Optimizer
	dev  device.OptimizerSettings
}{
	{"adam", func(p, g []float32) optim.Optimizer { return optim.NewAdam(p, g, optim.AdamConfig{LR: 1e-3}) },
		device.OptimizerSettings{Name: "adam", Adam: optim.AdamConfig{LR: 1e-3}}},
	{"adam-l2", func(p, g []float32) optim.Optimizer {
		return optim.NewAdam(p, g, optim.AdamConfig{LR: 2e-3, WeightDecay: 0.01})
	}, device.OptimizerSettings{Name: "adam", Adam: optim.AdamConfig{LR: 2e-3, WeightDecay: 0.01}}},
	{"adamw", func(p, g []float32) optim.Optimizer {
		return optim.NewAdamW(p, g, optim.AdamConfig{LR: 2e-3, WeightDecay: 0.05})
	}, device.OptimizerSettings{Name: "adamw", Adam: optim.AdamConfig{LR: 2e-3, WeightDecay: 0.05}}},
	{"sgd-momentum", func(p, g []float32) optim.Optimizer {
		return optim.NewSGD(p, g, optim.SGDConfig{LR: 0.05, Momentum: 0.9})
	}, device.OptimizerSettings{Name: "sgd", SGD: optim.SGDConfig{LR: 0.05, Momentum: 0.9}}},
	{"sgd-nesterov-wd", func(p, g []float32) optim.Optimizer {
		return optim.NewSGD(p, g, optim.SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3})
	}, device.OptimizerSettings{Name: "sgd", SGD: optim.SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3}}},
	{"sgd-maximize-momentum", func(p, g []float32) optim.Optimizer {
		return optim.NewSGD(p, g, optim.SGDConfig{LR: 0.05, Momentum: 0.9, Maximize: true})
	}, device.OptimizerSettings{Name: "sgd", SGD: optim.SGDConfig{LR: 0.05, Momentum: 0.9, Maximize: true}}},
	{"adam-amsgrad", func(p, g []float32) optim.Optimizer {
		return optim.NewAdam(p, g, optim.AdamConfig{LR: 2e-3, AMSGrad: true})
	}, device.OptimizerSettings{Name: "adam", Adam: optim.AdamConfig{LR: 2e-3, AMSGrad: true}}},
	{"adamw-amsgrad-maximize", func(p, g []float32) optim.Optimizer {
		return optim.NewAdamW(p, g, optim.AdamConfig{LR: 2e-3, WeightDecay: 0.05, AMSGrad: true, Maximize: true})
	}, device.OptimizerSettings{Name: "adamw", Adam: optim.AdamConfig{LR: 2e-3, WeightDecay: 0.05, AMSGrad: true, Maximize: true}}},
	{"rmsprop", func(p, g []float32) optim.Optimizer { return optim.NewRMSprop(p, g, optim.RMSpropConfig{LR: 1e-3}) },
		device.OptimizerSettings{Name: "rmsprop", RMSprop: optim.RMSpropConfig{LR: 1e-3}}},
	{"rmsprop-centered-momentum-wd", func(p, g []float32) optim.Optimizer {
		return optim.NewRMSprop(p, g, optim.RMSpropConfig{LR: 1e-3, Alpha: 0.9, Momentum: 0.9, Centered: true, WeightDecay: 0.01})
	}, device.OptimizerSettings{Name: "rmsprop", RMSprop: optim.RMSpropConfig{LR: 1e-3, Alpha: 0.9, Momentum: 0.9, Centered: true, WeightDecay: 0.01}}},
}

// TestStepsMatchEngine trains each model 5 steps (batch sizes that shrink
// and grow again) with the engine's train.Classifier and with
// device.Classifier on the CPU backend, and requires the same losses,
// correct counts, weights and optimizer state to the bit, then the same
// evaluation.
func TestStepsMatchEngine(t *testing.T) {
	stepsMatch(t, func() backend.Backend { return backend.NewCPU() }, 0)
}

// stepsMatch is TestStepsMatchEngine on the backends open makes: tol 0
// asks for the same bits, else agreement within tol relative to
// max(1, |engine's value|).
func stepsMatch(t *testing.T, open func() backend.Backend, tol float64) {
	for _, zc := range zoo {
		for _, oc := range optimizers {
			t.Run(zc.name+"/"+oc.name, func(t *testing.T) {
				ref, dm := build(t, zc, 1), build(t, zc, 1)
				rp, dp := ref.ParamSet(), dm.ParamSet()
				ropt := oc.host(rp.Data, rp.Grad)
				rc := train.NewClassifier(ref, rp, nil, ropt)
				dc, err := device.NewClassifier(dm, dp, oc.dev, open())
				if err != nil {
					t.Fatal(err)
				}
				nn.SetTraining(ref, true)
				nn.SetTraining(dm, true)
				for i, b := range batches(zc.shape, []int{8, 8, 5, 8, 3}, 2) {
					rl, rk := rc.TrainStep(b)
					dl, dk := dc.TrainStep(b)
					if err := dc.Err(); err != nil {
						t.Fatal(err)
					}
					if !within(float64(dl), float64(rl), tol) || (tol == 0 && rk != dk) {
						t.Fatalf("step %d: device loss %v (%d right), engine %v (%d right)", i, dl, dk, rl, rk)
					}
				}
				if err := dc.SyncToHost(); err != nil {
					t.Fatal(err)
				}
				near(t, "parameters", dp.Data, rp.Data, tol)
				rs, ds := ropt.State(), dc.Optimizer().State()
				if len(rs) != len(ds) {
					t.Fatalf("optimizer state has %d entries, engine's %d", len(ds), len(rs))
				}
				for k, v := range rs {
					near(t, "optimizer state "+k, ds[k], v, tol)
				}
				// Batch normalisation's buffers: the running statistics
				// and the batch count.
				for i, p := range rp.All {
					if p.Buffer {
						near(t, p.Name, dp.All[i].Var.Data(), p.Var.Data(), tol)
					}
				}
				nn.SetTraining(ref, false)
				nn.SetTraining(dm, false)
				eb := batches(zc.shape, []int{11}, 3)[0]
				rpred, dpred := make([]int, 11), make([]int, 11)
				rls, rk := rc.EvalBatch(eb, rpred)
				dls, dk := dc.EvalBatch(eb, dpred)
				if !within(dls, rls, tol) || (tol == 0 && rk != dk) {
					t.Fatalf("evaluation: device %v (%d right), engine %v (%d right)", dls, dk, rls, rk)
				}
				for i := range rpred {
					if tol != 0 {
						break // near-ties may go either way
					}
					if rpred[i] != dpred[i] {
						t.Fatalf("prediction %d: device %d, engine %d", i, dpred[i], rpred[i])
					}
				}
			})
		}
	}
}

// within reports whether got is within tol of want (relative to
// max(1, |want|)), or the same bits when tol is 0.
func within(got, want, tol float64) bool {
	if tol == 0 {
		return math.Float64bits(got) == math.Float64bits(want)
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if tol == 0 {
		sameBits(t, what, got, want)
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !within(float64(got[i]), float64(want[i]), tol) {
			t.Fatalf("%s[%d] = %v, engine %v (of %d)", what, i, got[i], want[i], len(want))
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, engine %v (of %d)", what, i, got[i], want[i], len(want))
		}
	}
}

// TestSyncFromHost: weights written on the host (a loaded checkpoint)
// reach the device, and a step before SyncToHost leaves the host copy
// alone.
func TestSyncFromHost(t *testing.T) {
	zc := zoo[1]
	m := build(t, zc, 4)
	ps := m.ParamSet()
	dc, err := device.NewClassifier(m, ps, device.OptimizerSettings{Name: "sgd", SGD: optim.SGDConfig{LR: 0.1}}, backend.NewCPU())
	if err != nil {
		t.Fatal(err)
	}
	b := batches(zc.shape, []int{4}, 5)[0]
	before := append([]float32(nil), ps.Data...)
	dc.TrainStep(b)
	sameBits(t, "host parameters before SyncToHost", ps.Data, before)
	if err := dc.SyncToHost(); err != nil {
		t.Fatal(err)
	}
	if ps.Data[0] == before[0] && ps.Data[len(before)-1] == before[len(before)-1] {
		t.Fatal("SyncToHost did not bring the step's weights back")
	}
	copy(ps.Data, before)
	if err := dc.SyncFromHost(); err != nil {
		t.Fatal(err)
	}
	nn.SetTraining(m, false)
	l1, _ := dc.EvalBatch(b, nil)
	// The reference: a fresh classifier over the same host weights.
	fresh, err := device.NewClassifier(m, ps, device.OptimizerSettings{Name: "sgd", SGD: optim.SGDConfig{LR: 0.1}}, backend.NewCPU())
	if err != nil {
		t.Fatal(err)
	}
	if l2, _ := fresh.EvalBatch(b, nil); l1 != l2 {
		t.Fatalf("after SyncFromHost the loss is %v, a classifier built on those weights gives %v", l1, l2)
	}
}

// TestUnsupported: models with layers the device lacks are refused with
// the layer named and what is supported said.
func TestUnsupported(t *testing.T) {
	cpu := backend.NewCPU()
	set := device.OptimizerSettings{Name: "adam"}
	var ue *device.UnsupportedError
	a, err := models.ParseArch([]byte(`[{"type":"conv2d","out":2,"kernel":3},{"type":"gelu"},{"type":"flatten"},{"type":"linear"}]`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.Build(models.Shape{Channels: 1, Height: 5, Width: 5, Classes: 2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = device.NewClassifier(st, st.ParamSet(), set, cpu)
	if !errors.As(err, &ue) || ue.Layer == "" || !strings.HasPrefix(ue.Layer, "1 (nn.GELU)") || !strings.Contains(err.Error(), device.Supported) {
		t.Fatalf("gelu architecture: %v, want layer 1 (nn.GELU) named", err)
	}
	lm, err := models.New("mlp", models.Shape{Channels: 1, Height: 2, Width: 2, Classes: 2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := device.NewClassifier(struct{ models.Model }{lm}, lm.ParamSet(), set, cpu); !errors.As(err, &ue) || ue.Layer != "" {
		t.Fatalf("a model type the device path does not know: %v", err)
	}
	m, err := models.New("mlp", models.Shape{Channels: 1, Height: 2, Width: 2, Classes: 2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := device.NewClassifier(m, m.ParamSet(), device.OptimizerSettings{Name: "adagrad"}, cpu); err == nil || !strings.Contains(err.Error(), "adagrad") {
		t.Fatalf("adagrad: %v, want it refused by name", err)
	}
}

// TestClipNormMatchesEngine: with gradient clipping (a bound low enough
// to clip every step) 5 steps equal train.Classifier's with ClipNorm to
// the bit.
func TestClipNormMatchesEngine(t *testing.T) {
	for _, zc := range []zooCase{zoo[0], zoo[4]} {
		t.Run(zc.name, func(t *testing.T) {
			ref, dm := build(t, zc, 3), build(t, zc, 3)
			rp, dp := ref.ParamSet(), dm.ParamSet()
			rc := train.NewClassifier(ref, rp, nil, optim.NewAdam(rp.Data, rp.Grad, optim.AdamConfig{LR: 1e-2}))
			rc.ClipNorm = 0.05
			dc, err := device.NewClassifier(dm, dp, device.OptimizerSettings{Name: "adam", Adam: optim.AdamConfig{LR: 1e-2}, ClipNorm: 0.05}, backend.NewCPU())
			if err != nil {
				t.Fatal(err)
			}
			nn.SetTraining(ref, true)
			nn.SetTraining(dm, true)
			for i, b := range batches(zc.shape, []int{8, 6, 8, 8, 5}, 4) {
				rl, _ := rc.TrainStep(b)
				if dl, _ := dc.TrainStep(b); dl != rl {
					t.Fatalf("step %d: device loss %v, engine %v", i, dl, rl)
				}
				// Clipped, the engine's gradient has the bound's norm.
				if n := optim.ClipGradNorm(append([]float32(nil), rp.Grad...), 1e9, 2); math.Abs(n-0.05) > 1e-4 {
					t.Fatalf("step %d: the clipped gradient's norm is %v; the test clips nothing", i, n)
				}
			}
			if err := dc.SyncToHost(); err != nil {
				t.Fatal(err)
			}
			sameBits(t, "parameters", dp.Data, rp.Data)
		})
	}
}
