package tune

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// FuzzParseSpace checks that the parser never panics, and that every
// space it accepts is one the samplers can use: its canonical form parses
// back to itself, and random and grid draws stay inside it.
func FuzzParseSpace(f *testing.F) {
	seeds := []string{
		`{"lr": {"type": "loguniform", "low": 1e-4, "high": 1e-1}, "batch_size": {"type": "categorical", "choices": [32, 64]}}`,
		`{"n": {"type": "int", "low": 1, "high": 9, "step": 2}, "w": {"type": "int", "low": 1, "high": 1000, "log": true}}`,
		`{"d": {"type": "uniform", "low": -1.5, "high": 2.25}, "c": {"type": "categorical", "choices": ["a", true, 0.5, -3]}}`,
		"lr: {type: loguniform, low: 1e-5, high: 1}\nopt: {type: categorical, choices: [adam, sgd]}\n",
		"n:\n  type: int\n  low: -4\n  high: 4\n",
		`{"a": {"type": "uniform", "low": 0, "high": 1}, "a": {}}`,
		"a: &x {type: uniform, low: 0, high: 1}\nb: *x\n",
		`{"n": {"type": "int", "low": 1, "high": 9007199254740992}}`,
		"",
		"[",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpace(b)
		if err != nil {
			return
		}
		canon := s.String()
		again, err := ParseSpace([]byte(canon))
		if err != nil {
			t.Fatalf("canonical form %s does not parse: %v", canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form changed: %s -> %s", canon, again)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x, _ := Random{}.Sample(&SampleRequest{Space: s, Rand: rng})
		if _, _, err := s.encodeParams(x); err != nil {
			t.Fatalf("random draw outside %s: %v", canon, err)
		}
		g := NewGrid(3)
		if n, err := g.Size(s); err == nil && n > 0 {
			x, err := g.Sample(&SampleRequest{Space: s, Number: n - 1, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.encodeParams(x); err != nil {
				t.Fatalf("grid point outside %s: %v", canon, err)
			}
		}
	})
}

// FuzzDecodeParams checks the reader of stored parameters: it never
// panics, and what it accepts encodes back to values it reads the same.
func FuzzDecodeParams(f *testing.F) {
	space, err := ParseSpace([]byte(`{"c": {"type": "categorical", "choices": [32, "a", true, 0.5]},
		"n": {"type": "int", "low": -4, "high": 8, "step": 4}, "lr": {"type": "loguniform", "low": 1e-4, "high": 1}}`))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{`{"c": 32, "n": 4, "lr": 0.01}`, `{"c": "a"}`, `{"c": true, "n": -4}`, `{"c": 0.50}`,
		`{"n": 5}`, `{"lr": 1e-5}`, `{}`, ``, `null`, `{"c": [1]}`, `{"n": 4.0}`, `{"n": 1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, x, err := space.decodeParams(b)
		if err != nil {
			return
		}
		for i, p := range space.Params {
			if v, ok := vals[p.Name]; ok != !math.IsNaN(x[i]) || ok && !p.contains(x[i]) {
				t.Fatalf("%s: value %v, internal %v", p.Name, v, x[i])
			}
		}
		if len(vals) != space.Len() {
			return
		}
		enc, _, err := space.encodeParams(x)
		if err != nil {
			t.Fatal(err)
		}
		_, x2, err := space.decodeParams(enc)
		if err != nil || !reflect.DeepEqual(x, x2) {
			t.Fatalf("%s -> %s: %v, %v vs %v", b, enc, err, x, x2)
		}
	})
}
