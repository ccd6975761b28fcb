package run

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/train"
)

// FuzzParseConfig feeds arbitrary text to the JSON and YAML config
// readers: they must not panic, and a config they accept must survive
// config.json (what a run writes) unchanged.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"epochs": 3, "lr": 0.01, "model": "mlp"}`), false)
	f.Add([]byte("epochs: 3\nlr: 1e-3\naugment: hflip\n"), true)
	f.Add([]byte("seed: 18446744073709551615\n"), true)
	f.Add([]byte(`{"bogus": 1}`), false)
	f.Add([]byte("- 1\n- 2\n"), true)
	f.Add([]byte("epochs: !!binary aGVsbG8=\n"), true)
	f.Fuzz(func(t *testing.T, b []byte, yamlSyntax bool) {
		parse := parseJSONConfig
		if yamlSyntax {
			parse = parseYAMLConfig
		}
		cfg, err := parse(b, "fuzz", DefaultConfig())
		if err != nil {
			return
		}
		j, err := json.Marshal(cfg)
		if err != nil {
			if math.IsNaN(cfg.LR) || math.IsInf(cfg.LR, 0) {
				return
			}
			t.Fatalf("accepted config does not marshal: %v", err)
		}
		again, err := parseJSONConfig(j, "again", Config{})
		if err != nil || again != cfg {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", cfg, j, again, err)
		}
	})
}

// FuzzJSONFloat checks that every float64, NaN and the infinities
// included, survives JSONFloat to the bit, and that bad input is an error.
func FuzzJSONFloat(f *testing.F) {
	for _, v := range []float64{0, -0.0, 1e-310, math.MaxFloat64, 0.1, math.Inf(-1), math.NaN()} {
		f.Add(math.Float64bits(v), []byte("1.5"))
	}
	f.Add(uint64(0), []byte(`"nan"`))
	f.Fuzz(func(t *testing.T, bits uint64, text []byte) {
		v := math.Float64frombits(bits)
		b, err := json.Marshal(JSONFloat(v))
		if err != nil {
			t.Fatal(err)
		}
		var back JSONFloat
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got := float64(back); got != v && !(math.IsNaN(got) && math.IsNaN(v)) || math.Signbit(got) != math.Signbit(v) && !math.IsNaN(v) {
			t.Fatalf("%v -> %s -> %v", v, b, got)
		}
		var x JSONFloat
		_ = json.Unmarshal(text, &x)
	})
}

// FuzzParseClassNames feeds arbitrary --classes values: no panic, and
// accepted names, joined again, parse back to the same list.
func FuzzParseClassNames(f *testing.F) {
	for _, s := range []string{"", "10", "cat,dog", " a , b ,c", "a,,b", "-3", "99999999999999999999", "x,x", "\x00,\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ParseClassNames(s)
		if err != nil || names == nil {
			return
		}
		again, err := ParseClassNames(strings.Join(names, ","))
		if err != nil || !slices.Equal(again, names) {
			t.Fatalf("%q parsed to %q, which reparses to %q (%v)", s, names, again, err)
		}
	})
}

// FuzzParseReport feeds arbitrary text to the test-report reader that a
// rerun kiln tune reads a finished retraining back with: it must not
// panic, and what it accepts must count as many images as its first line
// says.
func FuzzParseReport(f *testing.F) {
	c := train.NewConfusion([]string{"T-shirt/top", "Ankle boot", "x"})
	for _, p := range [][2]int{{0, 0}, {0, 2}, {1, 1}, {2, 2}, {2, 1}} {
		c.Add(p[0], p[1])
	}
	f.Add([]byte(fmt.Sprintf("test accuracy %.4f, loss %.4f, %d images, best model\n\n%s", c.Accuracy(), 0.5, c.Total(), c.Report())))
	f.Add([]byte("test accuracy 1, loss 0, 0 images\n\nconfusion matrix\na 0 0 0\nb 0 0 0\nc 0 0 0\n"))
	f.Add([]byte("test accuracy NaN, loss Inf, -3 images\nconfusion matrix\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseReport(b, "fuzz", c.Classes)
		if err != nil {
			return
		}
		if n := r.Confusion.Total(); len(r.Confusion.Counts) != 3 || r.Accuracy != r.Confusion.Accuracy() {
			t.Errorf("accepted %q: %d images, accuracy %v", b, n, r.Accuracy)
		}
		for _, row := range r.Confusion.Counts {
			for _, v := range row {
				if v < 0 {
					t.Errorf("accepted %q: a negative count", b)
				}
			}
		}
	})
}
