package device_test

import (
	"testing"

	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train"
)

// TestResumeOnDevice: a run that trains 3 steps on the engine and goes on
// on the device, its weights and optimizer state handed over as a
// training state hands them (optim.LoadState, then SyncFromHost), ends 2
// steps later with the engine's bits, for the optimizers whose state the
// device path gained: amsgrad's maximum, RMSprop's averages and momentum.
func TestResumeOnDevice(t *testing.T) {
	zc := zoo[1]
	for _, name := range []string{"adam-amsgrad", "adamw-amsgrad-maximize", "rmsprop-centered-momentum-wd", "sgd-maximize-momentum"} {
		t.Run(name, func(t *testing.T) {
			oc := optimizers[0]
			for _, o := range optimizers {
				if o.name == name {
					oc = o
				}
			}
			if oc.name != name {
				t.Fatalf("no optimizer case %s", name)
			}
			ref := build(t, zc, 6)
			rp := ref.ParamSet()
			ropt := oc.host(rp.Data, rp.Grad)
			rc := train.NewClassifier(ref, rp, nil, ropt)
			nn.SetTraining(ref, true)
			bs := batches(zc.shape, []int{8, 7, 8, 6, 8}, 7)
			for _, b := range bs[:3] {
				rc.TrainStep(b)
			}

			dm := build(t, zc, 99) // other weights: the handover must overwrite them
			dp := dm.ParamSet()
			copy(dp.Data, rp.Data)
			dc, err := device.NewClassifier(dm, dp, oc.dev, backend.NewCPU())
			if err != nil {
				t.Fatal(err)
			}
			if err := optim.LoadState(dc.Optimizer(), ropt.State()); err != nil {
				t.Fatalf("the engine's state does not fit the device optimizer: %v", err)
			}
			if err := dc.SyncFromHost(); err != nil {
				t.Fatal(err)
			}
			nn.SetTraining(dm, true)
			for i, b := range bs[3:] {
				rl, _ := rc.TrainStep(b)
				if dl, _ := dc.TrainStep(b); dl != rl {
					t.Fatalf("step %d after the handover: device loss %v, engine %v", i+3, dl, rl)
				}
			}
			if err := dc.SyncToHost(); err != nil {
				t.Fatal(err)
			}
			sameBits(t, "parameters", dp.Data, rp.Data)
			for k, v := range ropt.State() {
				sameBits(t, "optimizer state "+k, dc.Optimizer().State()[k], v)
			}
		})
	}
}

// TestRMSpropMomentumNotCycled: the device RMSprop is, like the engine's,
// no optim.Momentum, so schedules leave it alone and training states
// record no momentum for it; SGD's is one, and is set.
func TestRMSpropMomentumNotCycled(t *testing.T) {
	m := build(t, zoo[1], 1)
	if _, ok := optim.Optimizer(optim.NewRMSprop(make([]float32, 1), make([]float32, 1), optim.RMSpropConfig{})).(optim.Momentum); ok {
		t.Fatal("optim's RMSprop is an optim.Momentum now: the device's should follow it")
	}
	rms, err := device.NewClassifier(m, m.ParamSet(), device.OptimizerSettings{Name: "rmsprop", RMSprop: optim.RMSpropConfig{LR: 0.01, Momentum: 0.5}}, backend.NewCPU())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rms.Optimizer().(optim.Momentum); ok {
		t.Error("the device RMSprop is an optim.Momentum; the engine's is not")
	}
	sgd, err := device.NewClassifier(m, m.ParamSet(), device.OptimizerSettings{Name: "sgd", SGD: optim.SGDConfig{LR: 0.01, Momentum: 0.5}}, backend.NewCPU())
	if err != nil {
		t.Fatal(err)
	}
	o := sgd.Optimizer().(optim.Momentum)
	o.SetMomentum(0.9)
	if got := o.Momentum(); got != 0.9 {
		t.Errorf("sgd: momentum %v after SetMomentum(0.9)", got)
	}
}
