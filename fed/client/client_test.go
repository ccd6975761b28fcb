package client

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/privacy"
)

// testConfig is a small MLP over synth's 1x12x12 shapes.
func testConfig() Config {
	return Config{Spec: Spec{Model: "mlp", Shape: []int{1, 12, 12}, Classes: synth.Classes}, Epochs: 1, BatchSize: 16,
		Optimizer: "sgd", LR: 0.1, Momentum: 0.9, Seed: 7}
}

func newTrainer(t *testing.T, name string, n int) *Trainer {
	t.Helper()
	tr, err := NewTrainer(Options{Name: name, Train: synth.New(n, 1, 12, 12, 3), Test: synth.New(60, 1, 12, 12, 99)})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// initial returns the spec's initial global vector.
func initial(t *testing.T, c Config) []float32 {
	t.Helper()
	m, err := c.Build(c.Seed)
	if err != nil {
		t.Fatal(err)
	}
	return Flatten(m)
}

func fit(t *testing.T, tr *Trainer, round int, params []float32, c Config) *fed.Reply {
	t.Helper()
	r, err := tr.Handle(context.Background(), &fed.Instruction{Round: round, Kind: fed.KindFit, Params: params, Config: c.Encode()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConfigRoundTrip(t *testing.T) {
	c := testConfig()
	c.Classes = []string{"T-shirt/top", "a,b", `quote"d`}
	c.ProximalMu, c.DP, c.MaxGradNorm, c.NoiseMultiplier, c.Delta, c.WeightDecay = 0.01, true, 1.5, 1.1, 1e-5, 5e-4
	m := c.Encode()
	m["secagg"] = "1" // another layer's key passes through
	got, err := ParseConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Classes, c.Classes) || !slices.Equal(got.Shape, c.Shape) {
		t.Fatalf("classes %q shape %v, want %q %v", got.Classes, got.Shape, c.Classes, c.Shape)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("parsed %+v, want %+v", got, c)
	}
	for key, bad := range map[string]string{KeyLR: "-1", KeyInputShape: "1,12", KeyClasses: "[x", KeyModel: "gpt", KeyDP: "yes", KeyBatchSize: "0", KeySeed: "-3", KeyOptimizer: "lbfgs", KeyLocalEpochs: "1.5"} {
		m := testConfig().Encode()
		m[key] = bad
		if _, err := ParseConfig(m); err == nil {
			t.Errorf("%s=%q accepted", key, bad)
		}
	}
	m = testConfig().Encode()
	delete(m, KeyModel)
	delete(m, KeyLR)
	if _, err := ParseConfig(m); err == nil || !strings.Contains(err.Error(), `lacks "lr"`) {
		t.Errorf("a config without lr: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	c := testConfig()
	base := c.Encode()
	f.Add(base[KeyInputShape], base[KeyClasses], base[KeyLR], "0", "1")
	f.Add("3,32,32", `["a","b"]`, "1e-3", "1", "0")
	f.Add("1,,2", `[]`, "NaN", "1", "x")
	f.Fuzz(func(t *testing.T, shape, classes, lr, dp, epochs string) {
		m := testConfig().Encode()
		m[KeyInputShape], m[KeyClasses], m[KeyLR], m[KeyDP], m[KeyLocalEpochs] = shape, classes, lr, dp, epochs
		m[KeyMaxGradNorm], m[KeyNoiseMultiplier], m[KeyDelta] = "1", "1", "1e-5"
		got, err := ParseConfig(m)
		if err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted what Validate refuses: %v", err)
		}
		again, err := ParseConfig(got.Encode())
		if err != nil || !slices.Equal(again.Classes, got.Classes) || !slices.Equal(again.Shape, got.Shape) || again.LR != got.LR {
			t.Fatalf("re-encoded config did not read back: %v", err)
		}
	})
}

func TestFitDeterministicAndLearns(t *testing.T) {
	c := testConfig()
	g := initial(t, c)
	a := newTrainer(t, "a", 120)
	r1 := fit(t, a, 1, g, c)
	r2 := fit(t, newTrainer(t, "a", 120), 1, g, c)
	if r1.NumExamples != 120 || len(r1.Params) != len(g) {
		t.Fatalf("reply: %d examples, %d params; want 120 and %d", r1.NumExamples, len(r1.Params), len(g))
	}
	if !slices.Equal(r1.Params, r2.Params) {
		t.Fatal("the same (seed, round, name) trained to different parameters")
	}
	if slices.Equal(r1.Params, fit(t, newTrainer(t, "b", 120), 1, g, c).Params) {
		t.Fatal("clients a and b drew the same batches")
	}
	if slices.Equal(r1.Params, fit(t, a, 2, g, c).Params) {
		t.Fatal("rounds 1 and 2 drew the same batches")
	}
	// A few rounds of one client: its loss on its own test data falls.
	ev := func(p []float32) float64 {
		r, err := a.Handle(context.Background(), &fed.Instruction{Kind: fed.KindEvaluate, Params: p, Config: c.Encode()})
		if err != nil {
			t.Fatal(err)
		}
		if r.NumExamples != 60 || r.Params != nil {
			t.Fatalf("evaluate reply: %d examples, %d params", r.NumExamples, len(r.Params))
		}
		return r.Metrics[MetricLoss]
	}
	p := g
	for round := 1; round <= 4; round++ {
		p = fit(t, a, round, p, c).Params
	}
	if before, after := ev(g), ev(p); !(after < 0.7*before) {
		t.Fatalf("test loss %.4f before, %.4f after 4 rounds; want it to fall by 30%%", before, after)
	}
}

func TestFitRefusesMismatch(t *testing.T) {
	tr := newTrainer(t, "x", 30)
	c := testConfig()
	g := initial(t, c)
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Shape = []int{1, 28, 28} }, "shape [1 12 12]; the server's mlp takes [1 28 28]"},
		{func(c *Config) { c.Classes = []string{"hstripes", "vstripes", "dstripes", "square", "ring", "star"} }, `class "cross", which the model was not trained on`},
		{func(c *Config) { c.Classes = append(slices.Clone(synth.Classes), "extra") }, "the server sent 70790 parameters; this model has 70919"}, // another output size
	} {
		cc := testConfig()
		tc.edit(&cc)
		_, err := tr.Handle(context.Background(), &fed.Instruction{Round: 1, Kind: fed.KindFit, Params: g, Config: cc.Encode()})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", cc.Spec, err, tc.want)
		}
	}
	_, err := tr.Handle(context.Background(), &fed.Instruction{Round: 1, Kind: fed.KindSecAgg, Config: c.Encode()})
	if err == nil || !strings.Contains(err.Error(), "fed/secure") {
		t.Errorf("a secagg stage: %v", err)
	}
	// A client holding some of the classes, in another order, is matched by name.
	part, _ := data.NewSubset(synth.New(60, 1, 12, 12, 3), []int{0, 1, 6, 7})
	sub, err := NewTrainer(Options{Name: "some", Train: part})
	if err != nil {
		t.Fatal(err)
	}
	if r := fit(t, sub, 1, g, c); r.NumExamples != 4 {
		t.Fatalf("%d examples", r.NumExamples)
	}
}

func TestProximalGradient(t *testing.T) {
	w := []float32{1, 2, -3}
	g := []float32{0.5, 0, 0}
	global := []float32{0, 2, 1}
	p := &proximal{Optimizer: optim.NewSGD(w, g, optim.SGDConfig{LR: 1}), mu: 0.5, global: global, w: w, g: g}
	p.Step()
	// g + mu*(w - global) = (0.5+0.5, 0, -2); w - 1*that.
	if want := []float32{0, 2, -1}; !slices.Equal(w, want) {
		t.Fatalf("after one proximal step w = %v, want %v", w, want)
	}
	// A large mu keeps the local model nearer the global one.
	c := testConfig()
	start := initial(t, c)
	dist := func(mu float64) float64 {
		cc := c
		cc.ProximalMu = mu
		r := fit(t, newTrainer(t, "p", 120), 1, start, cc)
		var s float64
		for i, v := range r.Params {
			s += float64(v-start[i]) * float64(v-start[i])
		}
		return math.Sqrt(s)
	}
	if d0, d1 := dist(0), dist(1); !(d1 < 0.8*d0) {
		t.Fatalf("distance from the global model: %.4f without the proximal term, %.4f with mu 1", d0, d1)
	}
}

func TestFitDPReportsEpsilon(t *testing.T) {
	c := testConfig()
	c.DP, c.MaxGradNorm, c.NoiseMultiplier, c.Delta, c.BatchSize, c.Epochs = true, 1, 1.1, 1e-5, 10, 2
	tr := newTrainer(t, "dp", 60)
	g := initial(t, c)
	r1 := fit(t, tr, 1, g, c)
	r2 := fit(t, tr, 2, r1.Params, c)
	// q = 10/60, round(1/q) = 6 steps per epoch, 2 epochs per round.
	var want privacy.Accountant
	for range 12 {
		want.Step(1.1, 10.0/60)
	}
	e1, _, _ := want.Epsilon(1e-5)
	for range 12 {
		want.Step(1.1, 10.0/60)
	}
	e2, _, _ := want.Epsilon(1e-5)
	if r1.Metrics[MetricEpsilon] != e1 || r2.Metrics[MetricEpsilon] != e2 || !(e2 > e1) {
		t.Fatalf("epsilon after rounds 1 and 2: %v, %v; the accountant gives %v, %v", r1.Metrics[MetricEpsilon], r2.Metrics[MetricEpsilon], e1, e2)
	}
	if slices.Equal(r1.Params, g) {
		t.Fatal("DP training left the parameters as they were")
	}
	again := fit(t, newTrainer(t, "dp", 60), 1, g, c)
	if !slices.Equal(again.Params, r1.Params) {
		t.Fatal("DP training is not deterministic from (seed, round, name)")
	}
	bn := c
	bn.Model, bn.Shape = "resnet8", []int{1, 12, 12}
	if _, err := tr.Handle(context.Background(), &fed.Instruction{Round: 3, Kind: fed.KindFit, Params: initial(t, bn), Config: bn.Encode()}); err == nil || !strings.Contains(err.Error(), "batch normalisation") {
		t.Fatalf("DP with batch norm: %v", err)
	}
}

func TestFlattenCarriesBuffers(t *testing.T) {
	c := testConfig()
	c.Model = "resnet8"
	m, _ := c.Build(1)
	v := Flatten(m)
	if len(v) <= len(m.ParamSet().Data) {
		t.Fatalf("resnet8's vector has %d values, no more than its %d trainable ones: the running statistics are missing", len(v), len(m.ParamSet().Data))
	}
	for i := range v {
		v[i] = float32(i % 97)
	}
	other, _ := c.Build(2)
	if err := Unflatten(other, v); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(Flatten(other), v) {
		t.Fatal("Unflatten then Flatten changed the vector")
	}
	if err := Unflatten(other, v[1:]); err == nil {
		t.Fatal("a short vector was loaded")
	}
}

// TestDPAccountSurvivesRestart: a client that keeps its DP account in a
// file and is made anew (a restarted process) reports, after its next
// round, the epsilon of both rounds; without the file it would report
// one round's.
func TestDPAccountSurvivesRestart(t *testing.T) {
	c := testConfig()
	c.DP, c.MaxGradNorm, c.NoiseMultiplier, c.Delta, c.BatchSize, c.Epochs = true, 1, 1.1, 1e-5, 10, 1
	file := filepath.Join(t.TempDir(), "account.json")
	mk := func() *Trainer {
		tr, err := NewTrainer(Options{Name: "dp", Train: synth.New(60, 1, 12, 12, 3), AccountFile: file})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	g := initial(t, c)
	r1 := fit(t, mk(), 1, g, c)
	r2 := fit(t, mk(), 2, r1.Params, c) // a new process, the same file
	whole := newTrainer(t, "dp", 60)
	fit(t, whole, 1, g, c)
	w2 := fit(t, whole, 2, r1.Params, c)
	if r2.Metrics[MetricEpsilon] != w2.Metrics[MetricEpsilon] || !(r2.Metrics[MetricEpsilon] > r1.Metrics[MetricEpsilon]) {
		t.Fatalf("epsilon after a restart: %v, one process: %v (round 1: %v)", r2.Metrics[MetricEpsilon], w2.Metrics[MetricEpsilon], r1.Metrics[MetricEpsilon])
	}
	if err := os.WriteFile(file, []byte(`[{"noise_multiplier":1,"sample_rate":7,"steps":1}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTrainer(Options{Name: "dp", Train: synth.New(60, 1, 12, 12, 3), AccountFile: file}); err == nil || !strings.Contains(err.Error(), "account.json") {
		t.Fatalf("a corrupt account file: %v", err)
	}
}
