package tune

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func reportTrials(t *testing.T, space *Space) []TrialRecord {
	t0 := time.Unix(1000, 0)
	mk := func(n int, st State, v float64, params string, inter map[int]float64) TrialRecord {
		vals, x, err := space.decodeParams([]byte(params))
		if err != nil {
			t.Fatal(err)
		}
		r := TrialRecord{Number: n, State: st, Value: v, Params: vals, X: x, Intermediate: inter, Started: t0}
		if st != Running {
			r.Finished = t0.Add(time.Duration(n+1) * time.Second)
		}
		return r
	}
	return []TrialRecord{
		mk(0, Complete, 0.7, `{"lr": 0.01, "opt": "adam"}`, nil),
		mk(1, Failed, math.NaN(), `{"lr": 0.1, "opt": "sgd"}`, nil),
		mk(2, Complete, 0.9, `{"lr": 0.001, "opt": "sgd"}`, nil),
		mk(3, Pruned, 0.2, `{"lr": 0.05, "opt": "adam"}`, map[int]float64{1: 0.2}),
		mk(4, Running, math.NaN(), `{"lr": 0.02, "opt": "adam"}`, nil),
		mk(5, Complete, 0.8, `{"lr": 0.003, "opt": "adam"}`, nil),
		mk(6, Pruned, 0.5, `{"lr": 0.04, "opt": "sgd"}`, map[int]float64{1: 0.6, 2: 0.5}),
		mk(7, Complete, 0.9, `{"lr": 0.002, "opt": "adam"}`, nil),
	}
}

func TestSortedBestHistory(t *testing.T) {
	space := mustSpace(t, `{"lr": {"type": "loguniform", "low": 1e-4, "high": 1}, "opt": {"type": "categorical", "choices": ["adam", "sgd"]}}`)
	trials := reportTrials(t, space)
	order := func(ts []TrialRecord) []int {
		var n []int
		for _, tr := range ts {
			n = append(n, tr.Number)
		}
		return n
	}
	if got, want := order(Sorted(trials, Maximize)), []int{2, 7, 5, 0, 6, 3, 4, 1}; !equalInts(got, want) {
		t.Errorf("maximize order %v, want %v", got, want)
	}
	if got, want := order(Sorted(trials, Minimize)), []int{0, 5, 2, 7, 6, 3, 4, 1}; !equalInts(got, want) {
		t.Errorf("minimize order %v, want %v", got, want)
	}
	if b, ok := Best(trials, Maximize); !ok || b.Number != 2 {
		t.Errorf("best %d %v, want trial 2 (ties go to the earlier)", b.Number, ok)
	}
	if _, ok := Best(trials[1:2], Maximize); ok {
		t.Error("best of a failed trial found")
	}
	h := History(trials, Maximize)
	want := []HistoryPoint{{0, 0.7, 0.7}, {2, 0.9, 0.9}, {5, 0.8, 0.9}, {7, 0.9, 0.9}}
	if len(h) != len(want) {
		t.Fatalf("history %v", h)
	}
	for i := range want {
		if h[i] != want[i] {
			t.Errorf("history[%d] = %v, want %v", i, h[i], want[i])
		}
	}
}

func TestTable(t *testing.T) {
	space := mustSpace(t, `{"lr": {"type": "loguniform", "low": 1e-4, "high": 1}, "opt": {"type": "categorical", "choices": ["adam", "sgd"]}}`)
	rows := Table(reportTrials(t, space), space, Maximize)
	if strings.Join(rows[0], ",") != "number,state,value,steps,duration,lr,opt" {
		t.Errorf("header %v", rows[0])
	}
	if got := strings.Join(rows[1], ","); got != "2,complete,0.9,,3s,0.001,sgd" {
		t.Errorf("first row %q", got)
	}
	if got := strings.Join(rows[5], ","); got != "6,pruned,0.5,2,7s,0.04,sgd" {
		t.Errorf("pruned row %q", got)
	}
	if got := strings.Join(rows[8], ","); got != "1,failed,,,2s,0.1,sgd" {
		t.Errorf("failed row %q", got)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, reportTrials(t, space), space, Maximize); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 9 || !strings.HasPrefix(lines[1], "2 ") || strings.Index(lines[0], "lr") != strings.Index(lines[1], "0.001") {
		t.Errorf("table not aligned:\n%s", buf.String())
	}
}

// TestImportances checks that a parameter driving the objective outranks
// ones that do not, for numeric, log and categorical parameters, and that
// pure noise gets (near) nothing.
func TestImportances(t *testing.T) {
	space := mustSpace(t, `{"a": {"type": "uniform", "low": 0, "high": 1}, "lr": {"type": "loguniform", "low": 1e-5, "high": 1},
		"noise": {"type": "uniform", "low": 0, "high": 1}, "opt": {"type": "categorical", "choices": ["adam", "sgd", "rmsprop"]}}`)
	rng := rand.New(rand.NewPCG(11, 12))
	var trials []TrialRecord
	for n := range 200 {
		x, _ := Random{}.Sample(&SampleRequest{Space: space, Rand: rng})
		opt := 0.0
		if x[3] == 1 {
			opt = 1
		}
		// Variance shares: a 0.75, opt 0.5, lr (in log scale) 0.33, noise
		// none. A one-way analysis sees each parameter's effect through
		// the others' variance, so the test keeps the effects comparable.
		v := 3*x[0] + 0.4*math.Log10(x[1]) + 1.5*opt + 0.1*rng.NormFloat64()
		trials = append(trials, TrialRecord{Number: n, State: Complete, Value: v, X: x})
	}
	trials = append(trials, TrialRecord{Number: 200, State: Failed, Value: math.NaN(), X: []float64{0, 1, 0, 0}})
	imp := Importances(trials, space)
	names := []string{}
	sum := 0.0
	for _, im := range imp {
		names = append(names, im.Name)
		sum += im.Value
	}
	t.Logf("importances %+v", imp)
	if strings.Join(names, ",") != "a,opt,lr,noise" {
		t.Errorf("ranking %v, want a, opt, lr, noise", names)
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("importances sum to %v", sum)
	}
	if imp[3].Value > 0.05 {
		t.Errorf("noise importance %v, want about 0", imp[3].Value)
	}
	// Too few trials: all zero, not NaN.
	for _, im := range Importances(trials[:2], space) {
		if im.Value != 0 {
			t.Errorf("2 trials: %+v", im)
		}
	}
}

func TestNames(t *testing.T) {
	for name, want := range map[string]string{"": "*tune.TPE", "TPE": "*tune.TPE", "random": "tune.Random", "grid": "*tune.Grid"} {
		s, err := NewSampler(name)
		if err != nil || fmt.Sprintf("%T", s) != want {
			t.Errorf("sampler %q: %T, %v; want %s", name, s, err, want)
		}
	}
	for name, want := range map[string]string{"": "tune.NopPruner", "median": "*tune.Median", "successive-halving": "*tune.Halving"} {
		p, err := NewPruner(name)
		if err != nil || fmt.Sprintf("%T", p) != want {
			t.Errorf("pruner %q: %T, %v; want %s", name, p, err, want)
		}
	}
	if _, err := NewSampler("cmaes"); err == nil || !strings.Contains(err.Error(), `"cmaes"`) {
		t.Errorf("unknown sampler: %v", err)
	}
	if _, err := NewPruner("hyperband"); err == nil {
		t.Error("unknown pruner: no error")
	}
}
