package classic

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// goldenCase is one trajectory of testdata/golden.json (see golden.py).
type goldenCase struct {
	Start      []float64   `json:"start"`
	Actions    []float64   `json:"actions"`
	States     [][]float64 `json:"states"`
	Obs        [][]float64 `json:"obs"`
	Rewards    []float64   `json:"rewards"`
	Terminated []bool      `json:"terminated"`
	Truncated  []bool      `json:"truncated"`
}

func readGolden(t *testing.T) map[string][]goldenCase {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string][]goldenCase
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	return golden
}

func relDiff(got, want float64) float64 { return math.Abs(got-want) / math.Max(1, math.Abs(want)) }

// TestGoldenSteps replays every step of the golden trajectories from the
// golden state before it: each transition must agree with numpy's to a
// few units in the last place (Go's and glibc's sin and cos may differ in
// the last bit).
func TestGoldenSteps(t *testing.T) {
	golden := readGolden(t)
	for _, name := range Names() {
		e, _ := Make(name)
		id := e.Spec().ID
		if len(golden[id]) == 0 {
			t.Fatalf("%s: no golden trajectories", id)
		}
		for ci, c := range golden[id] {
			prev := c.Start
			worst := 0.0
			for k, a := range c.Actions {
				if err := e.SetState(append(append([]float64(nil), prev...), float64(k))); err != nil {
					t.Fatal(err)
				}
				obs, r, term, trunc := e.Step([]float32{float32(a)})
				st := e.State()
				for i, want := range c.States[k] {
					worst = math.Max(worst, relDiff(st[i], want))
					if relDiff(st[i], want) > 1e-13 {
						t.Fatalf("%s case %d step %d: state[%d] = %.17g, want %.17g", id, ci, k, i, st[i], want)
					}
				}
				for i, want := range c.Obs[k] {
					if relDiff(float64(obs[i]), want) > 1e-7 {
						t.Fatalf("%s case %d step %d: obs[%d] = %v, want %v", id, ci, k, i, obs[i], want)
					}
				}
				if relDiff(r, c.Rewards[k]) > 1e-12 || term != c.Terminated[k] || trunc != c.Truncated[k] {
					t.Fatalf("%s case %d step %d: reward %v terminated %v truncated %v, want %v %v %v",
						id, ci, k, r, term, trunc, c.Rewards[k], c.Terminated[k], c.Truncated[k])
				}
				prev = c.States[k]
			}
			t.Logf("%s case %d: %d steps, largest relative difference %.2g", id, ci, len(c.Actions), worst)
		}
	}
}

// TestGoldenEpisodes runs each golden action sequence freely from its
// start: the episode must end at the same step, the same way. (The
// states themselves drift apart from numpy's once the last-bit
// differences grow, as they must in these unstable systems; the
// transitions are checked by TestGoldenSteps.)
func TestGoldenEpisodes(t *testing.T) {
	golden := readGolden(t)
	for _, name := range Names() {
		e, _ := Make(name)
		id := e.Spec().ID
		for ci, c := range golden[id] {
			if err := e.SetState(append(append([]float64(nil), c.Start...), 0)); err != nil {
				t.Fatal(err)
			}
			for k, a := range c.Actions {
				_, _, term, trunc := e.Step([]float32{float32(a)})
				if term != c.Terminated[k] || trunc != c.Truncated[k] {
					t.Fatalf("%s case %d step %d: terminated %v truncated %v, want %v %v", id, ci, k, term, trunc, c.Terminated[k], c.Truncated[k])
				}
			}
			// episodes of at most 100 steps end within 1e-9 of numpy's state
			if d := relDiff(e.State()[0], c.States[len(c.States)-1][0]); len(c.States) <= 100 && d > 1e-9 {
				t.Errorf("%s case %d: final state[0] off by %.2g", id, ci, d)
			}
		}
	}
}
