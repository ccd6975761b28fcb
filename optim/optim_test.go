package optim

import (
	"fmt"
	"math"
	"testing"

	"github.com/kiln-ml/kiln/internal/golden"
)

// newFromCase builds the optimizer a golden case describes over flat
// params and grads.
func newFromCase(t *testing.T, c golden.Case, p, g []float32) Optimizer {
	lr, wd := c.Float(t, "lr"), c.Float(t, "weight_decay")
	switch c.String(t, "op") {
	case "SGD":
		return NewSGD(p, g, SGDConfig{LR: lr, Momentum: c.Float(t, "momentum"), Dampening: c.Float(t, "dampening"),
			WeightDecay: wd, Nesterov: c.Bool(t, "nesterov"), Maximize: c.Bool(t, "maximize")})
	case "Adam", "AdamW":
		betas := c.Floats(t, "betas")
		cfg := AdamConfig{LR: lr, Beta1: betas[0], Beta2: betas[1], Eps: c.Float(t, "eps"), WeightDecay: wd,
			AMSGrad: c.Bool(t, "amsgrad"), Maximize: c.Bool(t, "maximize")}
		if c.String(t, "op") == "AdamW" {
			return NewAdamW(p, g, cfg)
		}
		return NewAdam(p, g, cfg)
	case "RMSprop":
		return NewRMSprop(p, g, RMSpropConfig{LR: lr, Alpha: c.Float(t, "alpha"), Eps: c.Float(t, "eps"),
			WeightDecay: wd, Momentum: c.Float(t, "momentum"), Centered: c.Bool(t, "centered"), Maximize: c.Bool(t, "maximize")})
	}
	t.Fatalf("unknown optimizer %q", c.String(t, "op"))
	return nil
}

// TestOptimizersGolden feeds each optimizer the gradients PyTorch saw and
// compares the parameters after each of 5 steps with PyTorch's.
func TestOptimizersGolden(t *testing.T) {
	for _, c := range golden.Load(t, "optim") {
		if c.String(t, "op") == "clip_grad_norm_" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			p0, p1 := c.T(t, "p0").Data, c.T(t, "p1").Data
			params := append(append([]float32{}, p0...), p1...)
			grads := make([]float32, len(params))
			opt := newFromCase(t, c, params, grads)
			for s := 1; s <= c.Int(t, "steps"); s++ {
				copy(grads, c.T(t, fmt.Sprintf("step%d.grad.p0", s)).Data)
				copy(grads[len(p0):], c.T(t, fmt.Sprintf("step%d.grad.p1", s)).Data)
				opt.Step()
				want := append(append([]float32{}, c.T(t, fmt.Sprintf("step%d.p0", s)).Data...), c.T(t, fmt.Sprintf("step%d.p1", s)).Data...)
				if !golden.Close(t, fmt.Sprintf("params after step %d", s), params, want, 1e-5, 1e-7) {
					return
				}
			}
		})
	}
}

func TestClipGradNormGolden(t *testing.T) {
	for _, c := range golden.Load(t, "optim") {
		if c.String(t, "op") != "clip_grad_norm_" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var grads, want []float32
			for i := 0; i < c.Int(t, "n_tensors"); i++ {
				grads = append(grads, c.T(t, fmt.Sprintf("g%d", i)).Data...)
				want = append(want, c.T(t, fmt.Sprintf("clipped.g%d", i)).Data...)
			}
			normType := math.Inf(1)
			if v, ok := c.Attrs["norm_type"].(float64); ok {
				normType = v
			}
			total := ClipGradNorm(grads, c.Float(t, "max_norm"), normType)
			golden.Close(t, "clipped gradients", grads, want, 1e-5, 1e-7)
			if c.Has("total_norm") {
				golden.Close(t, "total norm", []float32{float32(total)}, c.T(t, "total_norm").Data, 1e-5, 0)
			}
		})
	}
}

// TestSchedulersGolden compares each schedule's learning rates (and cycled
// momentum) over 30 steps with PyTorch's.
func TestSchedulersGolden(t *testing.T) {
	for _, c := range golden.Load(t, "sched") {
		t.Run(c.Name, func(t *testing.T) {
			p, g := make([]float32, 1), make([]float32, 1)
			var opt Optimizer
			if c.String(t, "optimizer") == "Adam" {
				opt = NewAdam(p, g, AdamConfig{LR: c.Float(t, "optimizer_lr")})
			} else {
				opt = NewSGD(p, g, SGDConfig{LR: c.Float(t, "optimizer_lr"), Momentum: 0.9})
			}
			var s Scheduler
			switch c.String(t, "op") {
			case "StepLR":
				s = NewStepLR(opt, c.Int(t, "step_size"), c.Float(t, "gamma"))
			case "MultiStepLR":
				s = NewMultiStepLR(opt, c.Ints(t, "milestones"), c.Float(t, "gamma"))
			case "CosineAnnealingLR":
				s = NewCosineAnnealingLR(opt, c.Int(t, "T_max"), c.Float(t, "eta_min"))
			case "OneCycleLR":
				var err error
				s, err = NewOneCycleLR(opt, OneCycleConfig{MaxLR: c.Float(t, "max_lr"), TotalSteps: c.Int(t, "total_steps"),
					PctStart: c.Float(t, "pct_start"), Linear: c.String(t, "anneal_strategy") == "linear",
					DivFactor: c.Float(t, "div_factor"), FinalDivFactor: c.Float(t, "final_div_factor"),
					ThreePhase: c.Bool(t, "three_phase"), NoMomentum: !c.Bool(t, "cycle_momentum"),
					BaseMomentum: c.Float(t, "base_momentum"), MaxMomentum: c.Float(t, "max_momentum")})
				if err != nil {
					t.Fatal(err)
				}
			}
			var lrs, moms []float32
			for i := 0; i < c.Int(t, "steps"); i++ {
				lrs = append(lrs, float32(opt.LR()))
				moms = append(moms, float32(opt.(Momentum).Momentum()))
				opt.Step()
				if i < c.Int(t, "steps")-1 || c.String(t, "op") != "OneCycleLR" {
					s.Step()
				}
			}
			golden.Close(t, "learning rates", lrs, c.T(t, "lr").Data, 1e-5, 1e-9)
			for _, k := range []string{"momentum", "beta1"} {
				if c.Has(k) {
					golden.Close(t, k, moms, c.T(t, k).Data, 1e-5, 1e-9)
				}
			}
		})
	}
}

func TestOneCycleRejectsBadConfig(t *testing.T) {
	opt := NewSGD(make([]float32, 1), make([]float32, 1), SGDConfig{LR: 0.1})
	if _, err := NewOneCycleLR(opt, OneCycleConfig{MaxLR: 1}); err == nil {
		t.Error("zero total steps accepted")
	}
	if _, err := NewOneCycleLR(opt, OneCycleConfig{MaxLR: 1, TotalSteps: 10, PctStart: 1.5}); err == nil {
		t.Error("pct_start 1.5 accepted")
	}
}

func TestLoadStateRoundTrip(t *testing.T) {
	p, g := []float32{1, 2, 3}, []float32{0.1, -0.2, 0.3}
	a := NewAdam(p, g, AdamConfig{LR: 0.1, AMSGrad: true})
	a.Step()
	a.Step()
	p2 := append([]float32{}, p...)
	b := NewAdam(p2, g, AdamConfig{LR: 0.1, AMSGrad: true})
	if err := LoadState(b, a.State()); err != nil {
		t.Fatal(err)
	}
	a.Step()
	b.Step()
	for i := range p {
		if p[i] != p2[i] {
			t.Fatalf("resumed Adam diverged at %d: %v vs %v", i, p, p2)
		}
	}
	if err := LoadState(b, map[string][]float32{"exp_avg": {1}}); err == nil {
		t.Error("incomplete state accepted")
	}
}
