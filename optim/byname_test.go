package optim

import "testing"

// TestNewByName checks that each name builds its optimizer with the
// settings given: one step of each equals the directly built one's.
func TestNewByName(t *testing.T) {
	direct := map[string]func(p, g []float32) Optimizer{
		"adam":  func(p, g []float32) Optimizer { return NewAdam(p, g, AdamConfig{LR: 0.1, WeightDecay: 0.01}) },
		"AdamW": func(p, g []float32) Optimizer { return NewAdamW(p, g, AdamConfig{LR: 0.1, WeightDecay: 0.01}) },
		"sgd": func(p, g []float32) Optimizer {
			return NewSGD(p, g, SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01})
		},
		"rmsprop": func(p, g []float32) Optimizer {
			return NewRMSprop(p, g, RMSpropConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01})
		},
		"": func(p, g []float32) Optimizer { return NewAdam(p, g, AdamConfig{LR: 0.1, WeightDecay: 0.01}) },
	}
	for name, build := range direct {
		p1, p2 := []float32{1, -2, 3}, []float32{1, -2, 3}
		g := []float32{0.5, 0.25, -1}
		a, b := New(name, p1, g, 0.1, 0.9, 0.01), build(p2, g)
		for range 3 {
			a.Step()
			b.Step()
		}
		for i := range p1 {
			if p1[i] != p2[i] {
				t.Fatalf("%q: New's parameters %v, the direct optimizer's %v", name, p1, p2)
			}
		}
	}
	// AdamW and Adam differ with weight decay: the test above can tell them apart.
	p1, p2 := []float32{1}, []float32{1}
	g := []float32{0.5}
	New("adam", p1, g, 0.1, 0, 0.5).Step()
	New("adamw", p2, g, 0.1, 0, 0.5).Step()
	if p1[0] == p2[0] {
		t.Fatal("adam and adamw gave the same step with weight decay")
	}
}
