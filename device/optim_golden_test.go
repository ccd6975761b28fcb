package device_test

import (
	"fmt"
	"testing"

	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/optim"
)

// settingsFromCase is the device optimizer a golden optimizer case
// describes.
func settingsFromCase(t *testing.T, c golden.Case) device.OptimizerSettings {
	lr, wd := c.Float(t, "lr"), c.Float(t, "weight_decay")
	switch op := c.String(t, "op"); op {
	case "SGD":
		return device.OptimizerSettings{Name: "sgd", SGD: optim.SGDConfig{LR: lr, Momentum: c.Float(t, "momentum"),
			Dampening: c.Float(t, "dampening"), WeightDecay: wd, Nesterov: c.Bool(t, "nesterov"), Maximize: c.Bool(t, "maximize")}}
	case "Adam", "AdamW":
		betas := c.Floats(t, "betas")
		return device.OptimizerSettings{Name: op, Adam: optim.AdamConfig{LR: lr, Beta1: betas[0], Beta2: betas[1], Eps: c.Float(t, "eps"),
			WeightDecay: wd, AMSGrad: c.Bool(t, "amsgrad"), Maximize: c.Bool(t, "maximize")}}
	case "RMSprop":
		return device.OptimizerSettings{Name: "rmsprop", RMSprop: optim.RMSpropConfig{LR: lr, Alpha: c.Float(t, "alpha"), Eps: c.Float(t, "eps"),
			WeightDecay: wd, Momentum: c.Float(t, "momentum"), Centered: c.Bool(t, "centered"), Maximize: c.Bool(t, "maximize")}}
	}
	t.Fatalf("unknown optimizer %q", c.String(t, "op"))
	return device.OptimizerSettings{}
}

// optimizersGolden feeds each device optimizer on b the gradients PyTorch
// saw in the golden cases of optim and compares the parameters after each
// of the steps with PyTorch's, within rtol (atol 1e-7).
func optimizersGolden(t *testing.T, b backend.Backend, rtol float64) {
	ran, cases := 0, 0
	for _, c := range golden.Load(t, "optim") {
		if c.String(t, "op") == "clip_grad_norm_" {
			continue
		}
		cases++
		t.Run(c.Name, func(t *testing.T) {
			p0, p1 := c.T(t, "p0").Data, c.T(t, "p1").Data
			host := append(append([]float32{}, p0...), p1...)
			p, err := b.Alloc(len(host))
			if err != nil {
				t.Fatal(err)
			}
			g, err := b.Alloc(len(host))
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Upload(p, host); err != nil {
				t.Fatal(err)
			}
			opt, err := device.NewOptimizer(settingsFromCase(t, c), b, p, g)
			if err != nil {
				t.Fatal(err)
			}
			grads := make([]float32, len(host))
			for s := 1; s <= c.Int(t, "steps"); s++ {
				copy(grads, c.T(t, fmt.Sprintf("step%d.grad.p0", s)).Data)
				copy(grads[len(p0):], c.T(t, fmt.Sprintf("step%d.grad.p1", s)).Data)
				if err := b.Upload(g, grads); err != nil {
					t.Fatal(err)
				}
				opt.Step()
				if err := b.Download(host, p); err != nil {
					t.Fatal(err)
				}
				want := append(append([]float32{}, c.T(t, fmt.Sprintf("step%d.p0", s)).Data...), c.T(t, fmt.Sprintf("step%d.p1", s)).Data...)
				if !golden.Close(t, fmt.Sprintf("params after step %d", s), host, want, rtol, 1e-7) {
					return
				}
			}
			ran++
		})
	}
	if ran != cases || cases < 20 {
		t.Fatalf("%d of %d optimizer cases passed", ran, cases)
	}
}

// TestOptimizersGolden: the device optimizers on the CPU backend give
// PyTorch's parameters for every golden case optim's own test passes
// (SGD, Adam, AdamW and RMSprop with every option), to optim's tolerance.
func TestOptimizersGolden(t *testing.T) {
	optimizersGolden(t, backend.NewCPU(), 1e-5)
}
