package client

// This file builds a Spec's model and moves its parameters in and out of
// the flat vector the server aggregates. It leaves out checkpoints
// (package checkpoint writes a model's state_dict; the server saves it).

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
)

// Build builds the spec's model with weights drawn from seed: the server's
// initial global model when seed is the run's, or a shell whose weights
// Unflatten replaces.
func (s Spec) Build(seed uint64) (models.Model, error) {
	if len(s.Shape) != 3 {
		return nil, fmt.Errorf("client: input shape %v: want [C, H, W]", s.Shape)
	}
	shape, rng := models.Shape{Channels: s.Shape[0], Height: s.Shape[1], Width: s.Shape[2], Classes: len(s.Classes)}, rand.New(rand.NewPCG(seed, 0x1217))
	if s.Architecture != "" {
		st, err := models.FromJSON([]byte(s.Architecture), shape, rng)
		if err != nil {
			return nil, fmt.Errorf("client: model %s: %w", s.Model, err)
		}
		return st, nil
	}
	m, err := models.New(s.Model, shape, rng)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return m, nil
}

// floatBuffers returns the model's floating-point buffers (batch norm's
// running statistics), in state_dict order.
func floatBuffers(m models.Model) []nn.Param {
	var out []nn.Param
	for _, p := range m.ParamSet().All {
		if p.Buffer && !p.Int {
			out = append(out, p)
		}
	}
	return out
}

// VectorLen returns the length of m's parameter vector.
func VectorLen(m models.Model) int {
	n := len(m.ParamSet().Data)
	for _, p := range floatBuffers(m) {
		n += len(p.Var.Data())
	}
	return n
}

// Flatten returns a copy of m's parameter vector: the packed trainable
// parameters, then the floating-point buffers.
func Flatten(m models.Model) []float32 {
	out := make([]float32, 0, VectorLen(m))
	out = append(out, m.ParamSet().Data...)
	for _, p := range floatBuffers(m) {
		out = append(out, p.Var.Data()...)
	}
	return out
}

// Unflatten copies v, a vector Flatten's layout, into m.
func Unflatten(m models.Model, v []float32) error {
	if n := VectorLen(m); len(v) != n {
		return fmt.Errorf("client: the server sent %d parameters; this model has %d (another model or input shape?)", len(v), n)
	}
	at := copy(m.ParamSet().Data, v)
	for _, p := range floatBuffers(m) {
		at += copy(p.Var.Data(), v[at:])
	}
	return nil
}
