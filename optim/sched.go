package optim

import (
	"fmt"
	"math"
)

// Scheduler changes an optimizer's learning rate as training advances.
// Step is called once per epoch (StepLR, MultiStepLR, CosineAnnealingLR) or
// once per batch (OneCycleLR), after the optimizer's step, as in PyTorch.
type Scheduler interface {
	Step()
	// LastEpoch is the number of Step calls so far. A resumed run replays
	// that many steps on a fresh schedule, then restores the saved rate.
	LastEpoch() int
}

// StepLR multiplies the learning rate by Gamma every StepSize steps.
type StepLR struct {
	opt      Optimizer
	StepSize int
	Gamma    float64
	last     int
}

// NewStepLR returns a StepLR driving opt.
func NewStepLR(opt Optimizer, stepSize int, gamma float64) *StepLR {
	return &StepLR{opt: opt, StepSize: stepSize, Gamma: gamma}
}

// Step advances the schedule.
func (s *StepLR) Step() {
	s.last++
	if s.last%s.StepSize == 0 {
		s.opt.SetLR(s.opt.LR() * s.Gamma)
	}
}

// LastEpoch returns the number of steps taken.
func (s *StepLR) LastEpoch() int { return s.last }

// MultiStepLR multiplies the learning rate by Gamma at each milestone.
type MultiStepLR struct {
	opt        Optimizer
	Milestones []int
	Gamma      float64
	last       int
}

// NewMultiStepLR returns a MultiStepLR driving opt.
func NewMultiStepLR(opt Optimizer, milestones []int, gamma float64) *MultiStepLR {
	return &MultiStepLR{opt: opt, Milestones: milestones, Gamma: gamma}
}

// Step advances the schedule; a milestone listed twice decays twice.
func (s *MultiStepLR) Step() {
	s.last++
	for _, m := range s.Milestones {
		if m == s.last {
			s.opt.SetLR(s.opt.LR() * s.Gamma)
		}
	}
}

// LastEpoch returns the number of steps taken.
func (s *MultiStepLR) LastEpoch() int { return s.last }

// CosineAnnealingLR follows half a cosine from the initial learning rate
// down to EtaMin over TMax steps, then back up, using PyTorch's recursive
// form so that it composes the same way.
type CosineAnnealingLR struct {
	opt    Optimizer
	TMax   int
	EtaMin float64
	base   float64
	last   int
}

// NewCosineAnnealingLR returns a CosineAnnealingLR driving opt from its
// current learning rate.
func NewCosineAnnealingLR(opt Optimizer, tMax int, etaMin float64) *CosineAnnealingLR {
	return &CosineAnnealingLR{opt: opt, TMax: tMax, EtaMin: etaMin, base: opt.LR()}
}

// Step advances the schedule.
func (s *CosineAnnealingLR) Step() {
	s.last++
	lr, t, T := s.opt.LR(), float64(s.last), float64(s.TMax)
	if (s.last-1-s.TMax)%(2*s.TMax) == 0 {
		lr += (s.base - s.EtaMin) * (1 - math.Cos(math.Pi/T)) / 2
	} else {
		lr = (1+math.Cos(math.Pi*t/T))/(1+math.Cos(math.Pi*(t-1)/T))*(lr-s.EtaMin) + s.EtaMin
	}
	s.opt.SetLR(lr)
}

// LastEpoch returns the number of steps taken.
func (s *CosineAnnealingLR) LastEpoch() int { return s.last }

// OneCycleConfig holds torch.optim.lr_scheduler.OneCycleLR's arguments. Zero
// values take PyTorch's defaults: PctStart 0.3, cosine annealing, DivFactor
// 25, FinalDivFactor 1e4, momentum cycling between 0.85 and 0.95.
type OneCycleConfig struct {
	MaxLR          float64
	TotalSteps     int
	PctStart       float64
	Linear         bool // anneal linearly instead of by cosine
	DivFactor      float64
	FinalDivFactor float64
	ThreePhase     bool
	NoMomentum     bool // PyTorch's cycle_momentum=False
	BaseMomentum   float64
	MaxMomentum    float64
}

type phase struct {
	end            float64
	lrFrom, lrTo   float64
	momFrom, momTo float64
}

// OneCycleLR is the 1cycle policy: warm up to MaxLR, then anneal far below
// the initial rate, cycling momentum inversely. It steps once per batch.
type OneCycleLR struct {
	opt    Optimizer
	cfg    OneCycleConfig
	phases []phase
	last   int
}

// NewOneCycleLR returns a OneCycleLR driving opt and sets its initial rate
// (and momentum), as PyTorch's constructor does.
func NewOneCycleLR(opt Optimizer, cfg OneCycleConfig) (*OneCycleLR, error) {
	if cfg.TotalSteps <= 0 {
		return nil, fmt.Errorf("optim: OneCycleLR needs a positive total step count, got %d", cfg.TotalSteps)
	}
	if cfg.PctStart == 0 {
		cfg.PctStart = 0.3
	}
	if cfg.PctStart < 0 || cfg.PctStart > 1 {
		return nil, fmt.Errorf("optim: OneCycleLR pct_start must be in [0, 1], got %g", cfg.PctStart)
	}
	if cfg.DivFactor == 0 {
		cfg.DivFactor = 25
	}
	if cfg.FinalDivFactor == 0 {
		cfg.FinalDivFactor = 1e4
	}
	if cfg.BaseMomentum == 0 {
		cfg.BaseMomentum = 0.85
	}
	if cfg.MaxMomentum == 0 {
		cfg.MaxMomentum = 0.95
	}
	initial := cfg.MaxLR / cfg.DivFactor
	minLR := initial / cfg.FinalDivFactor
	n, p := float64(cfg.TotalSteps), cfg.PctStart
	lo, hi := cfg.MaxMomentum, cfg.BaseMomentum
	s := &OneCycleLR{opt: opt, cfg: cfg}
	if cfg.ThreePhase {
		s.phases = []phase{
			{p*n - 1, initial, cfg.MaxLR, lo, hi},
			{2*p*n - 2, cfg.MaxLR, initial, hi, lo},
			{n - 1, initial, minLR, lo, lo},
		}
	} else {
		s.phases = []phase{
			{p*n - 1, initial, cfg.MaxLR, lo, hi},
			{n - 1, cfg.MaxLR, minLR, hi, lo},
		}
	}
	s.apply()
	return s, nil
}

func (s *OneCycleLR) anneal(from, to, pct float64) float64 {
	if s.cfg.Linear {
		return (to-from)*pct + from
	}
	return to + (from-to)/2*(math.Cos(math.Pi*pct)+1)
}

// apply sets the rate and momentum for the current step.
func (s *OneCycleLR) apply() {
	t := float64(s.last)
	start := 0.0
	for i, ph := range s.phases {
		if t <= ph.end || i == len(s.phases)-1 {
			pct := (t - start) / (ph.end - start)
			s.opt.SetLR(s.anneal(ph.lrFrom, ph.lrTo, pct))
			if m, ok := s.opt.(Momentum); ok && !s.cfg.NoMomentum {
				m.SetMomentum(s.anneal(ph.momFrom, ph.momTo, pct))
			}
			return
		}
		start = ph.end
	}
}

// Step advances the schedule. Stepping past TotalSteps panics, as PyTorch
// raises, because it means the caller's step count is wrong.
func (s *OneCycleLR) Step() {
	s.last++
	if s.last > s.cfg.TotalSteps {
		panic(fmt.Sprintf("optim: OneCycleLR stepped %d times, total_steps is %d", s.last, s.cfg.TotalSteps))
	}
	s.apply()
}

// LastEpoch returns the number of steps taken.
func (s *OneCycleLR) LastEpoch() int { return s.last }
