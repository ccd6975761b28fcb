package strategy

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// TestFlowerGolden replays testdata/flower_golden.json: cases computed by
// testdata/flower_golden.py, Flower's aggregation functions re-implemented
// in numpy on float32 arrays, one or several rounds each.
func TestFlowerGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/flower_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Strategy string
			Options  json.RawMessage
			Global   []float64
			Rounds   []struct {
				Updates [][]float64
				Weights []float64
				Want    []float64
			}
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for ci, c := range file.Cases {
		t.Run(fmt.Sprintf("%d_%s", ci, c.Strategy), func(t *testing.T) {
			o := DefaultOptions()
			if err := json.Unmarshal(c.Options, &o); err != nil {
				t.Fatal(err)
			}
			s, err := New(c.Strategy, o)
			if err != nil {
				t.Fatal(err)
			}
			global := f32(c.Global)
			for r, rd := range c.Rounds {
				var us []Update
				for k, p := range rd.Updates {
					us = append(us, Update{Client: fmt.Sprint(k), Params: f32(p), Weight: rd.Weights[k]})
				}
				if err := s.Aggregate(r+1, global, us); err != nil {
					t.Fatal(err)
				}
				for i, w := range rd.Want {
					if d := math.Abs(float64(global[i]) - w); d > 1e-6+1e-5*math.Abs(w) {
						t.Fatalf("round %d [%d] = %v, Flower's %v (off by %g)", r+1, i, global[i], w, d)
					}
				}
			}
		})
		seen[c.Strategy] = true
	}
	for _, n := range Names() {
		if !seen[n] {
			t.Errorf("no golden case for %s", n)
		}
	}
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}
