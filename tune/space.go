package tune

// This file holds the search space and the rules of its file format. It
// leaves out decoding the text (decode.go), how values are drawn (the
// samplers) and the mapping between a parameter's value and the number
// samplers work with (param.go).

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// Kind is a parameter's distribution.
type Kind string

// The distributions a search space can use.
const (
	Uniform     Kind = "uniform"     // float, uniform in [low, high]
	LogUniform  Kind = "loguniform"  // float, uniform in log space; low > 0
	Int         Kind = "int"         // integer in [low, high] on a step grid, optionally log-spaced
	Categorical Kind = "categorical" // one of a list of choices
)

// maxExactInt bounds int parameters: beyond 2^53 a float64 no longer holds
// every integer, and samplers work in float64.
const maxExactInt = 1 << 53

// Param is one searched setting. Name is the training setting it sets,
// e.g. "lr" or "batch_size".
type Param struct {
	Name    string
	Kind    Kind
	Low     float64 // Uniform, LogUniform, Int
	High    float64 // Uniform, LogUniform, Int (inclusive)
	Step    int64   // Int only; at least 1
	Log     bool    // set for LogUniform, and for Int when log-spaced
	Choices []any   // Categorical only: string, bool, int64 or float64
}

// Space is a search space: its parameters sorted by name, so that the same
// file always gives the same order (and the same samples for a seed).
type Space struct {
	Params []Param
}

// Len returns the number of parameters.
func (s *Space) Len() int { return len(s.Params) }

// Index returns the position of the parameter called name, or -1.
func (s *Space) Index(name string) int {
	for i := range s.Params {
		if s.Params[i].Name == name {
			return i
		}
	}
	return -1
}

// LoadSpace reads a search space from a YAML or JSON file.
func LoadSpace(path string) (*Space, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tune: search space: %w", err)
	}
	s, err := ParseSpace(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseSpace parses a search space: a mapping from parameter name to its
// distribution, in JSON or YAML, for example
//
//	{"lr": {"type": "loguniform", "low": 1e-4, "high": 1e-1},
//	 "epochs": {"type": "int", "low": 2, "high": 10, "step": 2},
//	 "batch_size": {"type": "categorical", "choices": [32, 64]}}
//
// Int parameters take an optional "step" (default 1) or "log": true, not
// both. Unknown fields and duplicate names are errors, so that a typo does
// not silently leave a setting unsearched.
func ParseSpace(b []byte) (*Space, error) {
	tree, err := decodeTree(b)
	if err != nil {
		return nil, fmt.Errorf("tune: search space: %w", err)
	}
	top, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("tune: search space: want a mapping from parameter name to distribution, got %s", describe(tree))
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("tune: search space: no parameters")
	}
	s := &Space{}
	for name, spec := range top {
		p, err := parseParam(name, spec)
		if err != nil {
			return nil, err
		}
		s.Params = append(s.Params, p)
	}
	slices.SortFunc(s.Params, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	return s, nil
}

// validName accepts the characters of training setting names and dotted
// paths; anything else is more likely a mistake than a setting.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// fields lists the keys each distribution accepts.
var fields = map[Kind][]string{
	Uniform:     {"type", "low", "high"},
	LogUniform:  {"type", "low", "high"},
	Int:         {"type", "low", "high", "step", "log"},
	Categorical: {"type", "choices"},
}

func parseParam(name string, spec any) (Param, error) {
	p := Param{Name: name}
	bad := func(field, format string, a ...any) error {
		if field == "" {
			return fmt.Errorf("tune: search space: parameter %q: %s", name, fmt.Sprintf(format, a...))
		}
		return fmt.Errorf("tune: search space: parameter %q: field %q: %s", name, field, fmt.Sprintf(format, a...))
	}
	if !validName(name) {
		return p, bad("", "want a name of letters, digits, '_', '.' or '-' (at most 128)")
	}
	m, ok := spec.(map[string]any)
	if !ok {
		return p, bad("", "want a mapping with \"type\", got %s", describe(spec))
	}
	typ, ok := m["type"].(string)
	if !ok {
		if _, present := m["type"]; !present {
			return p, bad("type", "missing; want one of uniform, loguniform, int, categorical")
		}
		return p, bad("type", "want a string, got %s", describe(m["type"]))
	}
	p.Kind = Kind(typ)
	allowed, known := fields[p.Kind]
	if !known {
		return p, bad("type", "unknown distribution %q; want one of uniform, loguniform, int, categorical", typ)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return p, bad(k, "not a field of %s (want %s)", typ, strings.Join(allowed, ", "))
		}
	}
	if p.Kind == Categorical {
		return parseChoices(p, m, bad)
	}
	isInt := p.Kind == Int
	var err error
	if p.Low, err = number(m, "low", isInt, bad); err != nil {
		return p, err
	}
	if p.High, err = number(m, "high", isInt, bad); err != nil {
		return p, err
	}
	if !(p.Low < p.High) {
		return p, bad("high", "%v must be greater than low %v", p.High, p.Low)
	}
	switch p.Kind {
	case LogUniform:
		p.Log = true
		if !(p.Low > 0) {
			return p, bad("low", "%v must be positive for loguniform", p.Low)
		}
	case Int:
		p.Step = 1
		if _, has := m["step"]; has {
			st, err := number(m, "step", true, bad)
			if err != nil {
				return p, err
			}
			if st < 1 {
				return p, bad("step", "%v must be at least 1", st)
			}
			p.Step = int64(st)
		}
		if lv, has := m["log"]; has {
			if p.Log, ok = lv.(bool); !ok {
				return p, bad("log", "want true or false, got %s", describe(lv))
			}
		}
		if p.Log && p.Step != 1 {
			return p, bad("step", "cannot be combined with log")
		}
		if p.Log && p.Low < 1 {
			return p, bad("low", "%v must be at least 1 for a log-spaced int", p.Low)
		}
		if span := int64(p.High - p.Low); span%p.Step != 0 {
			return p, bad("high", "high - low = %d is not a multiple of step %d", span, p.Step)
		}
	}
	return p, nil
}

// number reads a finite number field; integer fields must be whole and
// within the range float64 holds exactly.
func number(m map[string]any, field string, integer bool, bad func(string, string, ...any) error) (float64, error) {
	v, present := m[field]
	if !present {
		return 0, bad(field, "missing")
	}
	f, ok := toFloat(v)
	if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, bad(field, "want a finite number, got %s", describe(v))
	}
	if integer && (f != math.Trunc(f) || math.Abs(f) > maxExactInt) {
		return 0, bad(field, "want a whole number within ±2^53, got %v", v)
	}
	return f, nil
}

func parseChoices(p Param, m map[string]any, bad func(string, string, ...any) error) (Param, error) {
	raw, present := m["choices"]
	if !present {
		return p, bad("choices", "missing")
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return p, bad("choices", "want a non-empty list, got %s", describe(raw))
	}
	seen := map[string]int{}
	for i, c := range list {
		v, ok := scalarChoice(c)
		if !ok {
			return p, bad("choices", "entry %d: want a string, number or boolean, got %s", i, describe(c))
		}
		key := canonical(v)
		if j, dup := seen[key]; dup {
			return p, bad("choices", "entry %d repeats entry %d (%s)", i, j, key)
		}
		seen[key] = i
		p.Choices = append(p.Choices, v)
	}
	return p, nil
}
