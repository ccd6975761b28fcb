package server

import (
	"bufio"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/fed/client"
	"github.com/kiln-ml/kiln/fed/secure"
	"github.com/kiln-ml/kiln/run"
)

// testConfig is a small federated run over synth's 1x12x12 shapes.
func testConfig(out string) Config {
	c := DefaultConfig()
	c.Rounds, c.MinClients, c.LR, c.Momentum, c.BatchSize, c.LocalEpochs, c.Seed = 3, 3, 0.05, 0.9, 16, 1, 5
	c.Data.Out, c.Data.Name = out, "fed"
	return c
}

// perClient is how many shapes each test client holds.
const perClient = 200

// clients returns n trainers over disjoint parts of perClient*n shapes.
func clients(t *testing.T, n int) []fed.Handler {
	t.Helper()
	all := synth.New(perClient*n, 1, 12, 12, 3)
	var hs []fed.Handler
	for i := range n {
		idx := make([]int, 0, perClient)
		for j := i * perClient; j < (i+1)*perClient; j++ {
			idx = append(idx, j) // every class: labels cycle through them
		}
		sub, _ := data.NewSubset(all, idx)
		tr, err := client.NewTrainer(client.Options{Name: string(rune('a' + i)), Train: sub})
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, tr)
	}
	return hs
}

// env connects the handlers as Local clients named a, b, c ...
func env(t *testing.T, hs []fed.Handler) (Env, []*fed.LocalConn) {
	t.Helper()
	m := fed.NewManager()
	var conns []*fed.LocalConn
	for i, h := range hs {
		c := fed.Local(string(rune('a'+i)), h)
		if err := m.Register(c); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	return Env{Clients: m, Test: synth.New(120, 1, 12, 12, 77)}, conns
}

// runToEnd makes a server of cfg over e and runs every round, failing the
// test on any error.
func runToEnd(t *testing.T, cfg Config, e Env) (*Server, *Summary) {
	t.Helper()
	s, err := New(cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, sum
}

func TestFedAvgLearnsAndWritesTheRun(t *testing.T) {
	e, _ := env(t, clients(t, 3))
	var log strings.Builder
	e.Log = &log
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.LocalEpochs = 5, 2
	_, sum := runToEnd(t, cfg, e)
	if len(sum.Rounds) != 5 {
		t.Fatalf("%d rounds", len(sum.Rounds))
	}
	first, last := sum.Rounds[0], sum.Rounds[4]
	if !(last.TestAcc > 0.6) || !(last.TestLoss < first.TestLoss) {
		t.Fatalf("test accuracy %.3f then %.3f, loss %.4f then %.4f: want over 60%% and falling\n%s", first.TestAcc, last.TestAcc, first.TestLoss, last.TestLoss, log.String())
	}
	if !slices.Equal(last.Clients, []string{"a", "b", "c"}) || last.Examples != 3*perClient || last.Dropped != 0 {
		t.Fatalf("round 5: %+v", last)
	}
	for _, f := range []string{run.ConfigFile, run.InfoFile, run.MetricsCSV, run.MetricsJSON, run.LastFile, run.LossPlot, run.AccPlot, ConfigFile, StateFile} {
		if _, err := os.Stat(filepath.Join(sum.Dir, f)); err != nil {
			t.Errorf("the run directory lacks %s", f)
		}
	}
	if got := lines(t, filepath.Join(sum.Dir, run.MetricsCSV)); len(got) != 6 || !strings.HasPrefix(got[5], "5,3,3,0,600,") {
		t.Errorf("metrics.csv: %q", got)
	}
	if _, err := run.ReadRunConfig(sum.Dir); err != nil {
		t.Errorf("config.json does not read as a kiln run's: %v", err)
	}
	if info, err := run.ReadRunInfo(sum.Dir); err != nil || info.Model != "mlp" || !slices.Equal(info.Classes, synth.Classes) {
		t.Errorf("run.json: %+v, %v", info, err)
	}
	if ev, _ := filepath.Glob(filepath.Join(sum.Dir, "events.out.tfevents.*")); len(ev) != 1 {
		t.Errorf("TensorBoard files: %v", ev)
	}
	if n := strings.Count(log.String(), "round "); n != 5 {
		t.Errorf("%d round lines in the log:\n%s", n, log.String())
	}
	if _, err := New(testConfig(filepath.Dir(sum.Dir)), e); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second run into the same directory: %v", err)
	}
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

var errStop = errors.New("stop here")

// TestResumeSameBits stops a FedAvgM run sampling 2 of 3 clients after
// round 2 and resumes it, and another stopped in round 1: the global
// parameters after round 4 equal an uninterrupted run's to the bit.
func TestResumeSameBits(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.PerRound, cfg.MinClients, cfg.Strategy = 4, 2, 2, "fedavgm"
	e, _ := env(t, clients(t, 3))
	whole, err := New(cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	want, err := whole.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Data.Name = "stopped"
	e2, _ := env(t, clients(t, 3))
	e2.OnRound = func(r Round) error {
		if r.Round == 2 {
			return errStop
		}
		return nil
	}
	stopped, err := New(cfg, e2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stopped.Run(context.Background()); !errors.Is(err, errStop) {
		t.Fatalf("stopped run: %v", err)
	}
	e3, _ := env(t, clients(t, 3))
	resumed, err := Resume(stopped.Dir(), e3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := resumed.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resumed.Global(), whole.Global()) {
		t.Fatal("the resumed run's global parameters differ from the uninterrupted run's")
	}
	if len(got.Rounds) != 4 {
		t.Fatalf("%d rounds after resuming", len(got.Rounds))
	}
	for i := range 4 {
		a, b := want.Rounds[i], got.Rounds[i]
		if a.TestAcc != b.TestAcc || a.TestLoss != b.TestLoss || !slices.Equal(a.Clients, b.Clients) {
			t.Fatalf("round %d: %+v uninterrupted, %+v resumed", i+1, a, b)
		}
	}
	if got := lines(t, filepath.Join(stopped.Dir(), run.MetricsCSV)); len(got) != 5 {
		t.Errorf("metrics.csv after resuming has %d lines", len(got))
	}
	if _, err := Resume(t.TempDir(), e3); err == nil {
		t.Error("resumed an empty directory")
	}

	// Stopped inside round 1, before any round was saved: the state of
	// round 0 resumes to the same bits too.
	cfg.Data.Name = "stopped-early"
	e4, _ := env(t, clients(t, 3))
	early, err := New(cfg, e4)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := early.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a run stopped in round 1: %v", err)
	}
	e5, _ := env(t, clients(t, 3))
	again, err := Resume(early.Dir(), e5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Global(), whole.Global()) {
		t.Fatal("a run resumed from round 0 differs from the uninterrupted run")
	}
}

// failing answers fit with an error; slow answers after a delay or ctx's end.
type failing struct{}

func (failing) Handle(context.Context, *fed.Instruction) (*fed.Reply, error) {
	return nil, errors.New("disk full")
}

type slow struct {
	fed.Handler
	delay time.Duration
}

func (s slow) Handle(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
	select {
	case <-time.After(s.delay):
		return s.Handler.Handle(ctx, in)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// nanReply trains and then poisons its update.
type nanReply struct{ fed.Handler }

func (h nanReply) Handle(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
	r, err := h.Handler.Handle(ctx, in)
	if err == nil {
		r.Params[0] = float32(nanValue())
	}
	return r, err
}

func nanValue() float64 { z := 0.0; return z / z }

func TestDroppedClientsAndStragglers(t *testing.T) {
	hs := clients(t, 4)
	hs[1] = failing{}
	hs[2] = slow{hs[2], time.Hour}
	hs[3] = nanReply{hs[3]}
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.MinClients, cfg.MinResults, cfg.RoundTimeout = 1, 4, 1, 300*time.Millisecond
	e, _ := env(t, hs)
	var log strings.Builder
	e.Log = &log
	_, sum := runToEnd(t, cfg, e)
	r := sum.Rounds[0]
	if !slices.Equal(r.Clients, []string{"a"}) || r.Dropped != 3 {
		t.Fatalf("round 1 aggregated %v, dropped %d; want a alone, 3 dropped\n%s", r.Clients, r.Dropped, log.String())
	}
	for _, want := range []string{"client b dropped: disk full", "client c dropped: a straggler", "client d dropped: its update holds NaN"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestShortRoundRetriesThenFails(t *testing.T) {
	hs := clients(t, 3)
	hs[2] = failing{}
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.Retries = 2, 1
	e, _ := env(t, hs)
	var log strings.Builder
	e.Log = &log
	s, err := New(cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "2 usable updates of the 3 sampled clients, 3 needed; gave up after 2 attempts") {
		t.Fatalf("a round short of updates: %v", err)
	}
	if !strings.Contains(log.String(), "sampling again (1 of 1 retries left)") {
		t.Errorf("no retry in the log:\n%s", log.String())
	}
	if !strings.Contains(err.Error(), "rounds 1 to 0 are saved") {
		t.Errorf("the error does not say what is saved: %v", err)
	}
}

func TestClientLeavesMidRound(t *testing.T) {
	hs := clients(t, 3)
	var started atomic.Bool
	var conns []*fed.LocalConn
	hs[0] = fed.HandlerFunc(func(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
		started.Store(true)
		go conns[0].Close()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.MinClients = 2, 2
	e, cs := env(t, hs)
	conns = cs
	var log strings.Builder
	e.Log = &log
	s, err := New(cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !started.Load() || !strings.Contains(log.String(), "client a dropped: fed: client disconnected") {
		t.Fatalf("the leaving client was not logged:\n%s", log.String())
	}
	if got := sum.Rounds[1].Clients; !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("round 2 aggregated %v; a had left", got)
	}
}

func TestConfigRefuses(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Strategy = "fedsgd" }, "unknown strategy"},
		{func(c *Config) { c.SecureAggregation, c.Strategy = true, "krum" }, "krum needs each client's update"},
		{func(c *Config) { c.Rounds = 0 }, "--rounds 0"},
		{func(c *Config) { c.Fraction = 1.5 }, "--fraction 1.5"},
		{func(c *Config) { c.Optimizer = "lbfgs" }, `optimizer "lbfgs"`},
		{func(c *Config) { c.Model = "gpt" }, `model "gpt"`},
	} {
		c := testConfig(t.TempDir())
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
}

// TestSecureAggregationMatchesPlain runs one FedAvg round of 4 clients in
// the clear and one through secure aggregation: the global parameters
// agree to within the quantisation (a step of 16/2^22, about 3.8e-6).
func TestSecureAggregationMatchesPlain(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.MinClients = 1, 4
	e, _ := env(t, clients(t, 4))
	plain, err := New(cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := clients(t, 4)
	for i := range hs {
		hs[i] = secure.Wrap(hs[i])
	}
	cfg.SecureAggregation, cfg.Data.Name = true, "secure"
	e2, _ := env(t, hs)
	var log strings.Builder
	e2.Log = &log
	sec, err := New(cfg, e2)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sec.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if got := sum.Rounds[0].Clients; len(got) != 4 {
		t.Fatalf("secure round aggregated %v", got)
	}
	a, b := plain.Global(), sec.Global()
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(float64(a[i]-b[i])))
	}
	if worst > 1e-5 || worst == 0 {
		t.Fatalf("secure and plain FedAvg differ by up to %g; want above 0 (quantised) and within 1e-5", worst)
	}
	t.Logf("secure vs plain FedAvg: largest difference %.3g", worst)
}

// TestFitConfigCarriesStrategyAndDP checks what the clients are told: the
// strategy's keys (FedProx's mu) and DP's settings, and that a DP round
// records the largest epsilon the clients report.
func TestFitConfigCarriesStrategyAndDP(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.Strategy, cfg.DP, cfg.MaxGradNorm, cfg.NoiseMultiplier = 1, "fedprox", true, 1, 1.1
	e, _ := env(t, clients(t, 3))
	s, err := New(cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := client.ParseConfig(s.fitConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	if cc.ProximalMu != 0.01 || !cc.DP || cc.NoiseMultiplier != 1.1 || cc.Delta != 1e-5 || cc.Model != "mlp" {
		t.Fatalf("the clients are told %+v", cc)
	}
	sum, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if eps := sum.Rounds[0].Epsilon; !(eps > 0) {
		t.Fatalf("a DP round recorded epsilon %v", eps)
	}
}

// TestEvaluateOnClients asks every client to score each round's global
// model on its own data: the round records their example-weighted loss
// and accuracy, the same figures the clients give when asked directly.
func TestEvaluateOnClients(t *testing.T) {
	hs := clients(t, 3)
	e, _ := env(t, hs)
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.EvalClients = 2, 3
	s, sum := runToEnd(t, cfg, e)
	last := sum.Rounds[1]
	var loss, acc float64
	for _, h := range hs {
		r, err := h.Handle(context.Background(), &fed.Instruction{Round: 2, Kind: fed.KindEvaluate, Params: s.Global(), Config: s.fitConfig(2)})
		if err != nil {
			t.Fatal(err)
		}
		loss += r.Metrics[client.MetricLoss] / 3 // the clients hold perClient examples each
		acc += r.Metrics[client.MetricAccuracy] / 3
	}
	if last.EvalClients != 3 || math.Abs(last.EvalLoss-loss) > 1e-12 || math.Abs(last.EvalAcc-acc) > 1e-12 {
		t.Fatalf("round 2's clients' evaluation: %d clients, loss %v, accuracy %v; asked directly: loss %v, accuracy %v",
			last.EvalClients, last.EvalLoss, last.EvalAcc, loss, acc)
	}
	rows := lines(t, filepath.Join(sum.Dir, run.MetricsCSV))
	if !strings.HasSuffix(rows[0], "eval_clients,eval_loss,eval_acc") || !strings.Contains(rows[2], ",3,") {
		t.Errorf("metrics.csv: %q", rows)
	}
	cfg.EvalClients = -1
	if err := cfg.Validate(); err == nil {
		t.Error("--evaluate-clients -1 was accepted")
	}
}

// TestArchitectureFileModel federates an architecture file's model: the
// clients build it from the fit's config, and the run directory's
// config.json keeps it, so that kiln eval rebuilds it.
func TestArchitectureFileModel(t *testing.T) {
	e, _ := env(t, clients(t, 2))
	cfg := testConfig(t.TempDir())
	cfg.Rounds, cfg.MinClients = 2, 2
	cfg.Model, cfg.Architecture = "tiny.json", `[{"type": "flatten"}, {"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}]`
	s, sum := runToEnd(t, cfg, e)
	if len(sum.Rounds) != 2 || len(sum.Rounds[1].Clients) != 2 || len(s.Global()) != 144*16+16+16*len(synth.Classes)+len(synth.Classes) {
		t.Fatalf("%d rounds, %d parameters", len(sum.Rounds), len(s.Global()))
	}
	rc, err := run.ReadRunConfig(sum.Dir)
	if err != nil || rc.Architecture != cfg.Architecture || rc.Model != "tiny.json" {
		t.Fatalf("config.json: model %q, architecture %q, %v", rc.Model, rc.Architecture, err)
	}
	cfg.Architecture = `[{"type": "linear", "out": -1}]`
	if err := cfg.Validate(); err == nil {
		t.Error("a broken architecture was accepted")
	}
}
