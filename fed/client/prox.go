package client

// This file holds FedProx's proximal term as an optimizer wrapper, so
// that every learner (train.Classifier, privacy.DPClassifier) gets it
// without knowing. It leaves out the loss value: the term changes the
// gradient, and the reported training loss stays the data's.

import "github.com/kiln-ml/kiln/optim"

// proximal adds mu*(w - global) to the gradient, the gradient of
// mu/2*||w - global||^2 (Li et al. 2020; Flower's FedProx example adds the
// same term to the loss), before each step of the optimizer it wraps.
type proximal struct {
	optim.Optimizer
	mu     float32
	global []float32 // the round's starting parameters
	w, g   []float32 // the parameters and gradients the optimizer steps
}

// Step adds the proximal gradient and steps.
func (p *proximal) Step() {
	for i, w := range p.w {
		p.g[i] += p.mu * (w - p.global[i])
	}
	p.Optimizer.Step()
}
