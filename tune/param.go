package tune

// This file maps between a parameter's value (what the objective sees and
// the study stores) and its internal number (what samplers work with): the
// value itself for numbers, the choice's index for categoricals. It also
// writes a space back out as canonical JSON. It leaves out sampling.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// External returns the value that internal number x stands for: a float64
// for Uniform and LogUniform, an int for Int, the choice for Categorical.
func (p *Param) External(x float64) any {
	switch p.Kind {
	case Int:
		return int(x)
	case Categorical:
		return p.Choices[int(x)]
	}
	return x
}

// Internal returns the internal number for a stored or user-given value,
// or an error when the value is not in the parameter's range or choices.
func (p *Param) Internal(v any) (float64, error) {
	if p.Kind == Categorical {
		c, ok := scalarChoice(v)
		if ok {
			key := canonical(c)
			for i, ch := range p.Choices {
				if canonical(ch) == key {
					return float64(i), nil
				}
			}
		}
		return 0, fmt.Errorf("tune: parameter %q: %s is not one of its choices", p.Name, describe(v))
	}
	f, ok := toFloat(v)
	if !ok {
		return 0, fmt.Errorf("tune: parameter %q: want a number, got %s", p.Name, describe(v))
	}
	if !p.contains(f) {
		return 0, fmt.Errorf("tune: parameter %q: %v is outside its range", p.Name, f)
	}
	return f, nil
}

// contains reports whether internal number x is a value the parameter can
// take.
func (p *Param) contains(x float64) bool {
	switch p.Kind {
	case Categorical:
		return x >= 0 && x < float64(len(p.Choices)) && x == math.Trunc(x)
	case Int:
		return x >= p.Low && x <= p.High && x == math.Trunc(x) && math.Mod(x-p.Low, float64(p.Step)) == 0
	}
	return x >= p.Low && x <= p.High
}

// snap rounds a number drawn from a continuous relaxation onto the values
// the parameter can take: the step grid for Int, the range for floats.
func (p *Param) snap(x float64) float64 {
	switch p.Kind {
	case Categorical:
		return math.Max(0, math.Min(float64(len(p.Choices)-1), math.Round(x)))
	case Int:
		st := float64(p.Step)
		x = p.Low + math.Round((x-p.Low)/st)*st
	}
	return math.Max(p.Low, math.Min(p.High, x))
}

// paramJSON is a parameter as written in a space file.
type paramJSON struct {
	Type    Kind     `json:"type"`
	Low     *float64 `json:"low,omitempty"`
	High    *float64 `json:"high,omitempty"`
	Step    int64    `json:"step,omitempty"`
	Log     bool     `json:"log,omitempty"`
	Choices []any    `json:"choices,omitempty"`
}

// MarshalJSON writes the space in the file format ParseSpace reads, with
// keys sorted, so that equal spaces give equal bytes. Studies store it to
// refuse resuming with a different space.
func (s *Space) MarshalJSON() ([]byte, error) {
	m := make(map[string]paramJSON, len(s.Params))
	for _, p := range s.Params {
		j := paramJSON{Type: p.Kind}
		if p.Kind == Categorical {
			j.Choices = p.Choices
		} else {
			lo, hi := p.Low, p.High
			j.Low, j.High = &lo, &hi
		}
		if p.Kind == Int {
			if p.Step > 1 {
				j.Step = p.Step
			}
			j.Log = p.Log
		}
		m[p.Name] = j
	}
	return json.Marshal(m)
}

// String returns the space's canonical JSON.
func (s *Space) String() string {
	b, err := s.MarshalJSON()
	if err != nil {
		return fmt.Sprintf("tune: unprintable space: %v", err)
	}
	return string(b)
}

// decodeParams turns stored parameter JSON into values and internal
// numbers; a parameter missing from the JSON gets NaN, which samplers skip.
func (s *Space) decodeParams(b []byte) (map[string]any, []float64, error) {
	x := make([]float64, len(s.Params))
	for i := range x {
		x[i] = math.NaN()
	}
	vals := map[string]any{}
	if len(b) == 0 {
		return vals, x, nil
	}
	var raw map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("tune: stored parameters: %w", err)
	}
	for i := range s.Params {
		p := &s.Params[i]
		r, ok := raw[p.Name]
		if !ok {
			continue
		}
		xi, err := p.Internal(r)
		if err != nil {
			return nil, nil, err
		}
		x[i] = xi
		vals[p.Name] = p.External(xi)
	}
	return vals, x, nil
}

// encodeParams writes internal numbers as the values' JSON.
func (s *Space) encodeParams(x []float64) ([]byte, map[string]any, error) {
	vals := make(map[string]any, len(x))
	for i := range s.Params {
		p := &s.Params[i]
		if !p.contains(x[i]) {
			return nil, nil, fmt.Errorf("tune: sampler gave parameter %q the value %v, outside its range", p.Name, x[i])
		}
		vals[p.Name] = p.External(x[i])
	}
	b, err := json.Marshal(vals)
	return b, vals, err
}
