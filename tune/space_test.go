package tune

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSpaceValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Param
	}{
		{"json", `{"lr": {"type": "loguniform", "low": 1e-4, "high": 1e-1},
		           "batch_size": {"type": "categorical", "choices": [32, 64]}}`,
			[]Param{
				{Name: "batch_size", Kind: Categorical, Choices: []any{int64(32), int64(64)}},
				{Name: "lr", Kind: LogUniform, Low: 1e-4, High: 1e-1, Log: true},
			}},
		{"yaml", "dropout: {type: uniform, low: 0, high: 0.5}\nepochs:\n  type: int\n  low: 2\n  high: 10\n  step: 2\nopt: {type: categorical, choices: [adam, sgd, true, 0.5]}\n",
			[]Param{
				{Name: "dropout", Kind: Uniform, Low: 0, High: 0.5},
				{Name: "epochs", Kind: Int, Low: 2, High: 10, Step: 2},
				{Name: "opt", Kind: Categorical, Choices: []any{"adam", "sgd", true, 0.5}},
			}},
		{"int log", `{"width": {"type": "int", "low": 8, "high": 512, "log": true}}`,
			[]Param{{Name: "width", Kind: Int, Low: 8, High: 512, Step: 1, Log: true}}},
		{"json with tabs and BOM", "\ufeff\t{\t\"a.b-c\":\t{\"type\":\"uniform\",\"low\":-1,\"high\":1}}",
			[]Param{{Name: "a.b-c", Kind: Uniform, Low: -1, High: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSpace([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Params, tc.want) {
				t.Fatalf("got %+v\nwant %+v", s.Params, tc.want)
			}
			// The canonical form parses back to the same space.
			again, err := ParseSpace([]byte(s.String()))
			if err != nil {
				t.Fatalf("reparse %s: %v", s, err)
			}
			if again.String() != s.String() {
				t.Fatalf("round trip changed %s to %s", s, again)
			}
		})
	}
}

func TestParseSpaceErrors(t *testing.T) {
	tests := []struct {
		in   string
		want []string // substrings of the error
	}{
		{`{"lr": {"type": "loguniform", "low": 0, "high": 1}}`, []string{`parameter "lr"`, `field "low"`, "positive"}},
		{`{"lr": {"type": "uniform", "low": 1, "high": 1}}`, []string{`parameter "lr"`, `field "high"`, "greater"}},
		{`{"lr": {"type": "uniform", "low": "a", "high": 1}}`, []string{`field "low"`, `string "a"`}},
		{`{"lr": {"type": "uniform", "high": 1}}`, []string{`field "low"`, "missing"}},
		{`{"lr": {"type": "uniform", "low": 0, "hihg": 1}}`, []string{`parameter "lr"`, `field "hihg"`, "not a field"}},
		{`{"lr": {"type": "gaussian"}}`, []string{`field "type"`, `"gaussian"`}},
		{`{"lr": {"low": 1}}`, []string{`field "type"`, "missing"}},
		{`{"lr": 3}`, []string{`parameter "lr"`, "mapping"}},
		{`{"n": {"type": "int", "low": 1.5, "high": 4}}`, []string{`parameter "n"`, `field "low"`, "whole"}},
		{`{"n": {"type": "int", "low": 1, "high": 4, "step": 2}}`, []string{`field "high"`, "multiple of step"}},
		{`{"n": {"type": "int", "low": 1, "high": 4, "step": 0}}`, []string{`field "step"`, "at least 1"}},
		{`{"n": {"type": "int", "low": 0, "high": 4, "log": true}}`, []string{`field "low"`, "log-spaced"}},
		{`{"n": {"type": "int", "low": 1, "high": 5, "step": 2, "log": true}}`, []string{`field "step"`, "log"}},
		{`{"n": {"type": "int", "low": 1, "high": 5, "log": "yes"}}`, []string{`field "log"`, "true or false"}},
		{`{"n": {"type": "int", "low": 1, "high": 1e300}}`, []string{`field "high"`, "2^53"}},
		{`{"c": {"type": "categorical", "choices": []}}`, []string{`parameter "c"`, `field "choices"`, "non-empty"}},
		{`{"c": {"type": "categorical", "choices": [1, 1.0]}}`, []string{`field "choices"`, "entry 1 repeats entry 0"}},
		{`{"c": {"type": "categorical", "choices": [[1]]}}`, []string{`field "choices"`, "entry 0", "a list"}},
		{`{"c": {"type": "categorical", "choices": [null]}}`, []string{"entry 0", "null"}},
		{`{"bad name": {"type": "uniform", "low": 0, "high": 1}}`, []string{`parameter "bad name"`}},
		{`{"a": {"type": "uniform", "low": 0, "high": 1}, "a": {"type": "uniform", "low": 0, "high": 2}}`, []string{`"a" appears twice`}},
		{`{}`, []string{"no parameters"}},
		{`[1, 2]`, []string{"search space"}},
		{"- 1\n- 2\n", []string{"want a mapping"}},
		{"a: {type: uniform, low: 0, high: 1}\na: {type: uniform, low: 0, high: 2}\n", []string{"already defined"}},
		{`{"a": {"type": "uniform", "low": 0, "high": 1}} trailing`, []string{"after the JSON object"}},
		{"", []string{"want a mapping"}},
	}
	for _, tc := range tests {
		_, err := ParseSpace([]byte(tc.in))
		if err == nil {
			t.Errorf("%s: no error", tc.in)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.in, err, w)
			}
		}
		if !strings.HasPrefix(err.Error(), "tune: ") {
			t.Errorf("%s: error %q lacks the package prefix", tc.in, err)
		}
	}
}

func TestLoadSpaceNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "space.yaml")
	if err := os.WriteFile(path, []byte("lr: {type: loguniform, low: -1, high: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSpace(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `parameter "lr"`) {
		t.Fatalf("got %v, want an error naming %s and the parameter", err, path)
	}
	if _, err := LoadSpace(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("missing file: no error")
	}
}

func TestParamInternalExternal(t *testing.T) {
	s, err := ParseSpace([]byte(`{"bs": {"type": "categorical", "choices": [32, 64, "auto"]},
		"n": {"type": "int", "low": 2, "high": 10, "step": 2}, "lr": {"type": "loguniform", "low": 0.001, "high": 0.1}}`))
	if err != nil {
		t.Fatal(err)
	}
	vals, x, err := s.decodeParams([]byte(`{"bs": 64, "n": 6, "lr": 0.01}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 0.01, 6}; !reflect.DeepEqual(x, want) {
		t.Fatalf("internal %v, want %v", x, want)
	}
	if vals["bs"] != int64(64) || vals["n"] != 6 || vals["lr"] != 0.01 {
		t.Fatalf("values %#v", vals)
	}
	b, _, err := s.encodeParams(x)
	if err != nil || string(b) != `{"bs":64,"lr":0.01,"n":6}` {
		t.Fatalf("encode: %s, %v", b, err)
	}
	// A value the space cannot hold is an error, not a silent clamp.
	for _, bad := range []string{`{"n": 7}`, `{"n": 12}`, `{"bs": 16}`, `{"lr": "x"}`, `not json`} {
		if _, _, err := s.decodeParams([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, _, err := s.encodeParams([]float64{3, 0.01, 6}); err == nil {
		t.Error("encode out-of-range choice: no error")
	}
	// Missing parameters decode as NaN, which samplers skip.
	_, x, err = s.decodeParams([]byte(`{"n": 4}`))
	if err != nil || !math.IsNaN(x[0]) || x[2] != 4 {
		t.Fatalf("partial decode %v, %v", x, err)
	}
}
