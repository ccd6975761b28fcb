package transform

// This file holds Compose, the pipeline that ends in a float32 tensor. It
// leaves out RandomApply/RandomChoice-style combinators.

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Compose runs Steps on the 8-bit image, then ToTensor, then Normalize if
// set: torchvision's Compose([..., ToTensor(), Normalize(...)]). A nil
// *Compose is ToTensor alone.
type Compose struct {
	Steps     []Transform
	Normalize *Normalize
}

// OutShape returns the tensor shape (C, H, W) produced from a w×h image with
// c channels.
func (p *Compose) OutShape(w, h, c int) (oc, oh, ow int) {
	if p != nil {
		for _, s := range p.Steps {
			w, h, c = s.OutSize(w, h, c)
		}
	}
	return c, h, w
}

// Check reports whether the pipeline can run on images of c channels: fill
// colours and normalization statistics must match the channel count where
// it reaches them.
func (p *Compose) Check(c int) error {
	if p == nil {
		return nil
	}
	for _, s := range p.Steps {
		var fill []uint8
		switch t := s.(type) {
		case RandomCrop:
			fill = t.Fill
		case RandomRotation:
			fill = t.Fill
		}
		if err := checkFill(fill, c); err != nil {
			return fmt.Errorf("%w (in %s)", err, s)
		}
		_, _, c = s.OutSize(1, 1, c)
	}
	if p.Normalize != nil {
		return p.Normalize.Check(c)
	}
	return nil
}

// Apply runs the 8-bit steps.
func (p *Compose) Apply(m *Image, rng *rand.Rand) *Image {
	if p != nil {
		for _, s := range p.Steps {
			m = s.Apply(m, rng)
		}
	}
	return m
}

// Tensor runs the whole pipeline on m and writes the CHW result into x. It
// fails if the result does not fill x exactly, which happens when the
// pipeline does not fix the output size and the image has an unexpected one.
func (p *Compose) Tensor(m *Image, x []float32, rng *rand.Rand) error {
	m = p.Apply(m, rng)
	if len(x) != m.W*m.H*m.C {
		return fmt.Errorf("transform: pipeline made a %dx%dx%d image (CxHxW), want %d values", m.C, m.H, m.W, len(x))
	}
	ToTensor(m, x)
	if p != nil && p.Normalize != nil {
		p.Normalize.Apply(x, m.C)
	}
	return nil
}

// String returns the spec Parse reads back into an equivalent pipeline.
func (p *Compose) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	for _, s := range p.Steps {
		parts = append(parts, s.String())
	}
	if p.Normalize != nil {
		parts = append(parts, p.Normalize.String())
	}
	return strings.Join(parts, ",")
}
