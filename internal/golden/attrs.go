package golden

// This file reads tensors and attributes out of a Case. Every accessor fails
// the test on a missing name or a wrong type rather than returning a zero
// value, so a typo in a test cannot silently compare against nothing. It
// leaves out conversions PyTorch would do (an int where a pair is expected):
// make.py always writes the long form.

import (
	"math"
	"testing"
)

// T returns the tensor called name, failing the test if the case lacks it.
func (c Case) T(t testing.TB, name string) Tensor {
	t.Helper()
	v, ok := c.Tensors[name]
	if !ok {
		t.Fatalf("golden: case %s has no tensor %q", c.Name, name)
	}
	return v
}

// Has reports whether the case holds a tensor called name.
func (c Case) Has(name string) bool {
	_, ok := c.Tensors[name]
	return ok
}

// Scalar returns the single value of the one-element tensor called name.
func (c Case) Scalar(t testing.TB, name string) float32 {
	t.Helper()
	v := c.T(t, name)
	if len(v.Data) != 1 {
		t.Fatalf("golden: case %s: tensor %q has shape %v, want one element", c.Name, name, v.Shape)
	}
	return v.Data[0]
}

// HasAttr reports whether the case sets the attribute key.
func (c Case) HasAttr(key string) bool {
	_, ok := c.Attrs[key]
	return ok
}

func (c Case) attr(t testing.TB, key string) any {
	t.Helper()
	v, ok := c.Attrs[key]
	if !ok {
		t.Fatalf("golden: case %s has no attr %q", c.Name, key)
	}
	return v
}

// Int returns the integer attribute key.
func (c Case) Int(t testing.TB, key string) int {
	t.Helper()
	n, ok := toInt(c.attr(t, key))
	if !ok {
		t.Fatalf("golden: case %s: attr %q is %v, want an integer", c.Name, key, c.Attrs[key])
	}
	return n
}

// Float returns the numeric attribute key. The strings "inf", "-inf" and
// "nan" read as the IEEE values, since JSON cannot hold them as numbers.
func (c Case) Float(t testing.TB, key string) float64 {
	t.Helper()
	f, ok := toFloat(c.attr(t, key))
	if !ok {
		t.Fatalf("golden: case %s: attr %q is %v, want a number", c.Name, key, c.Attrs[key])
	}
	return f
}

// Bool returns the boolean attribute key.
func (c Case) Bool(t testing.TB, key string) bool {
	t.Helper()
	b, ok := c.attr(t, key).(bool)
	if !ok {
		t.Fatalf("golden: case %s: attr %q is %v, want a boolean", c.Name, key, c.Attrs[key])
	}
	return b
}

// String returns the string attribute key.
func (c Case) String(t testing.TB, key string) string {
	t.Helper()
	s, ok := c.attr(t, key).(string)
	if !ok {
		t.Fatalf("golden: case %s: attr %q is %v, want a string", c.Name, key, c.Attrs[key])
	}
	return s
}

// Ints returns the attribute key, a list of integers.
func (c Case) Ints(t testing.TB, key string) []int {
	t.Helper()
	list, ok := c.attr(t, key).([]any)
	if !ok {
		t.Fatalf("golden: case %s: attr %q is %v, want a list of integers", c.Name, key, c.Attrs[key])
	}
	out := make([]int, len(list))
	for i, v := range list {
		if out[i], ok = toInt(v); !ok {
			t.Fatalf("golden: case %s: attr %q[%d] is %v, want an integer", c.Name, key, i, v)
		}
	}
	return out
}

// Floats returns the attribute key, a list of numbers (each read as Float reads one).
func (c Case) Floats(t testing.TB, key string) []float64 {
	t.Helper()
	list, ok := c.attr(t, key).([]any)
	if !ok {
		t.Fatalf("golden: case %s: attr %q is %v, want a list of numbers", c.Name, key, c.Attrs[key])
	}
	out := make([]float64, len(list))
	for i, v := range list {
		if out[i], ok = toFloat(v); !ok {
			t.Fatalf("golden: case %s: attr %q[%d] is %v, want a number", c.Name, key, i, v)
		}
	}
	return out
}

// toInt accepts JSON numbers that are exact integers within int range.
func toInt(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case string:
		switch v {
		case "inf", "+inf":
			return math.Inf(1), true
		case "-inf":
			return math.Inf(-1), true
		case "nan":
			return math.NaN(), true
		}
	}
	return 0, false
}
