package server

// This file holds Server and its rounds: sampling, the fit instructions,
// collecting the updates with the round timeout and retries, aggregation
// and the global model's evaluation. It leaves out the run directory's
// files and resuming (rundir.go, state.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/fed/client"
	"github.com/kiln-ml/kiln/fed/strategy"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// Round is what one finished round did.
type Round struct {
	Round     int
	Sampled   int      // clients sent the fit instruction, over every attempt
	Attempts  int      // 1, or more when a short round was sampled again
	Clients   []string // whose updates were aggregated, sorted
	Dropped   int      // sampled clients whose updates were not (failed, left, late, non-finite)
	Examples  int      // the aggregated clients' examples
	TrainLoss float64  // the aggregated clients' last local epoch, weighted by examples
	TrainAcc  float64
	TestLoss  float64 // the new global model on the server's test set
	TestAcc   float64
	Epsilon   float64 // DP: the largest epsilon a client reported; 0 without DP
	// The clients' evaluation of the new global model on their own data
	// (Config.EvalClients): how many answered, and their loss and
	// accuracy weighted by their examples; zero without it.
	EvalClients       int
	EvalLoss, EvalAcc float64
	Duration          time.Duration
}

// Summary is what Run reports.
type Summary struct {
	Dir    string
	Rounds []Round // every finished round, those before a resume included
}

// Server runs a federated training in its run directory.
type Server struct {
	cfg  Config
	env  Env
	log  io.Writer
	dir  string
	spec client.Spec

	strat  strategy.Strategy
	global []float32 // the global parameter vector
	model  models.Model
	test   *data.Loader
	pcg    *rand.PCG // the sampling generator's state, saved with each round
	rng    *rand.Rand
	events *tfevents.Writer
	info   run.RunInfo

	history []Round
}

// sampleStream is the sampling generator's PCG stream, apart from the
// model's initialisation.
const sampleStream = 0xfed5

// newServer builds what New and Resume share: the strategy, the model and
// its test loader.
func newServer(cfg Config, env Env) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if env.Clients == nil {
		return nil, errors.New("server: no client manager (Env.Clients)")
	}
	if env.Test == nil || env.Test.Len() == 0 {
		return nil, errors.New("server: no test set to score the global model on (Env.Test)")
	}
	s := &Server{cfg: cfg, env: env, log: env.Log, history: []Round{}}
	if s.log == nil {
		s.log = io.Discard
	}
	s.spec = client.Spec{Model: cfg.Model, Architecture: cfg.Architecture, Shape: env.Test.Shape(), Classes: env.Test.Classes()}
	cc := s.cfg.clientConfig(s.spec)
	if err := cc.Validate(); err != nil {
		return nil, fmt.Errorf("server: the test set: %w", err)
	}
	var err error
	if s.strat, err = cfg.newStrategy(); err != nil {
		return nil, err
	}
	if s.model, err = s.spec.Build(cfg.Seed); err != nil {
		return nil, err
	}
	s.global = client.Flatten(s.model)
	if s.test, err = data.NewLoader(env.Test, data.LoaderOptions{BatchSize: 256, Workers: env.Workers}); err != nil {
		return nil, err
	}
	s.pcg = rand.NewPCG(cfg.Seed, sampleStream)
	s.rng = rand.New(s.pcg)
	return s, nil
}

// Dir returns the run directory.
func (s *Server) Dir() string { return s.dir }

// Rounds returns the finished rounds.
func (s *Server) Rounds() []Round { return slices.Clone(s.history) }

// Global returns a copy of the global parameter vector.
func (s *Server) Global() []float32 { return slices.Clone(s.global) }

// Run trains the rounds left, saving after each. An error stops it with
// every finished round saved; Resume continues from there.
func (s *Server) Run(ctx context.Context) (*Summary, error) {
	defer run.UnlockRun(s.dir)
	sum := &Summary{Dir: s.dir}
	for len(s.history) < s.cfg.Rounds {
		r := len(s.history) + 1
		st, err := s.round(ctx, r)
		if err != nil {
			sum.Rounds = s.Rounds()
			return sum, fmt.Errorf("%w (rounds 1 to %d are saved in %s; resume it to carry on)", err, r-1, s.dir)
		}
		s.history = append(s.history, st)
		if err := s.save(); err != nil {
			sum.Rounds = s.Rounds()
			return sum, err
		}
		fmt.Fprintf(s.log, "round %d/%d: test accuracy %.2f%%, loss %.4f; clients' train loss %.4f; %d updates (%d dropped), %d examples, %.1fs%s\n",
			r, s.cfg.Rounds, 100*st.TestAcc, st.TestLoss, st.TrainLoss, len(st.Clients), st.Dropped, st.Examples, st.Duration.Seconds(), epsilonNote(st)+evalNote(st))
		if s.env.OnRound != nil {
			if err := s.env.OnRound(st); err != nil {
				sum.Rounds = s.Rounds()
				return sum, fmt.Errorf("server: after round %d: %w", r, err)
			}
		}
	}
	sum.Rounds = s.Rounds()
	return sum, nil
}

func evalNote(st Round) string {
	if st.EvalClients > 0 {
		return fmt.Sprintf("; on %d clients' own data: accuracy %.2f%%, loss %.4f", st.EvalClients, 100*st.EvalAcc, st.EvalLoss)
	}
	return ""
}

func epsilonNote(st Round) string {
	if st.Epsilon > 0 {
		return fmt.Sprintf(", epsilon %.3f", st.Epsilon)
	}
	return ""
}

// round runs round r: fit on a sample (again, while too few updates come
// back and retries are left), aggregation, evaluation.
func (s *Server) round(ctx context.Context, r int) (Round, error) {
	start := time.Now()
	st := Round{Round: r}
	var updates []update
	for attempt := 0; ; attempt++ {
		if err := s.env.Clients.WaitFor(ctx, s.cfg.MinClients); err != nil {
			return st, fmt.Errorf("server: round %d: %w", r, err)
		}
		conns := s.sample()
		need := s.need(len(conns))
		st.Sampled += len(conns)
		st.Attempts++
		in := &fed.Instruction{Round: r, Kind: fed.KindFit, Params: s.global, Config: s.fitConfig(r)}
		got, err := s.collect(ctx, conns, in, need)
		if err != nil {
			return st, err
		}
		if updates, err = s.aggregate(ctx, r, conns, got, need); err == nil {
			break
		}
		if ctx.Err() != nil {
			return st, fmt.Errorf("server: round %d: %w", r, ctx.Err())
		}
		if attempt >= s.cfg.Retries {
			return st, fmt.Errorf("server: round %d: %w; gave up after %d attempts", r, err, attempt+1)
		}
		fmt.Fprintf(s.log, "round %d: %v; sampling again (%d of %d retries left)\n", r, err, s.cfg.Retries-attempt, s.cfg.Retries)
	}
	var wsum float64
	for _, u := range updates {
		w := float64(u.reply.NumExamples)
		st.Clients = append(st.Clients, u.id)
		st.Examples += u.reply.NumExamples
		st.TrainLoss += w * u.reply.Metrics[client.MetricTrainLoss]
		st.TrainAcc += w * u.reply.Metrics[client.MetricTrainAcc]
		st.Epsilon = math.Max(st.Epsilon, u.reply.Metrics[client.MetricEpsilon])
		wsum += w
	}
	if wsum > 0 {
		st.TrainLoss, st.TrainAcc = st.TrainLoss/wsum, st.TrainAcc/wsum
	}
	st.Dropped = st.Sampled - len(st.Clients)
	if err := client.Unflatten(s.model, s.global); err != nil {
		return st, err
	}
	res, err := train.Evaluate(ctx, train.NewClassifier(s.model, s.model.ParamSet(), nil, nil), s.test, nil)
	if err != nil {
		return st, fmt.Errorf("server: round %d: evaluating the global model: %w", r, err)
	}
	st.TestLoss, st.TestAcc = res.Loss, res.Accuracy
	if s.cfg.EvalClients > 0 {
		if err := s.evaluateOnClients(ctx, r, &st); err != nil {
			return st, err
		}
	}
	st.Duration = time.Since(start)
	return st, nil
}

// evaluateOnClients asks Config.EvalClients clients to score the new
// global model on their own data and records their weighted loss and
// accuracy in st. A client that fails or does not answer within the round
// timeout is left out (and logged); none answering is not an error.
func (s *Server) evaluateOnClients(ctx context.Context, r int, st *Round) error {
	conns := s.env.Clients.Sample(s.cfg.EvalClients, s.rng)
	in := &fed.Instruction{Round: r, Kind: fed.KindEvaluate, Params: s.global, Config: s.fitConfig(r)}
	got, err := s.collect(ctx, conns, in, 1)
	if err != nil {
		return err
	}
	var wsum float64
	for _, u := range got {
		if u.err != nil {
			fmt.Fprintf(s.log, "round %d: client %s did not evaluate: %v\n", r, u.id, u.err)
			continue
		}
		w := float64(u.reply.NumExamples)
		st.EvalClients++
		st.EvalLoss += w * u.reply.Metrics[client.MetricLoss]
		st.EvalAcc += w * u.reply.Metrics[client.MetricAccuracy]
		wsum += w
	}
	if wsum > 0 {
		st.EvalLoss, st.EvalAcc = st.EvalLoss/wsum, st.EvalAcc/wsum
	}
	return nil
}

// sample draws the round's clients from the connected ones.
func (s *Server) sample() []fed.Conn {
	have := s.env.Clients.Len()
	n := have
	switch {
	case s.cfg.PerRound > 0:
		n = s.cfg.PerRound
	case s.cfg.Fraction > 0:
		n = int(math.Ceil(s.cfg.Fraction * float64(have)))
	}
	return s.env.Clients.Sample(max(n, s.cfg.MinResults, 1), s.rng)
}

// need is the fewest updates a round of sampled clients aggregates.
func (s *Server) need(sampled int) int {
	if s.cfg.MinResults > 0 {
		return s.cfg.MinResults
	}
	return max(1, min(s.cfg.MinClients, sampled))
}

// fitConfig is round r's fit instruction config: the model and local
// training, the strategy's keys, and secure aggregation's.
func (s *Server) fitConfig(r int) map[string]string {
	cc := s.cfg.clientConfig(s.spec)
	m := cc.Encode()
	maps.Copy(m, s.strat.ClientConfig(r))
	if s.cfg.SecureAggregation {
		m[secureKey] = "1"
	}
	return m
}

// update is one client's answer to a fit.
type update struct {
	id    string
	reply *fed.Reply
	err   error
}

// collect sends in to every conn and gathers the answers until all have
// come, or until the round timeout has passed with at least need good
// ones. Calls still out are then cancelled. It returns every answer, a
// late client's with an error saying so, sorted by client.
func (s *Server) collect(ctx context.Context, conns []fed.Conn, in *fed.Instruction, need int) ([]update, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan update, len(conns))
	for _, c := range conns {
		go func() {
			r, err := c.Do(rctx, in)
			ch <- update{id: c.ID(), reply: r, err: err}
		}()
	}
	var timeout <-chan time.Time
	if s.cfg.RoundTimeout > 0 {
		t := time.NewTimer(s.cfg.RoundTimeout)
		defer t.Stop()
		timeout = t.C
	}
	var out []update
	good := 0
	waiting := map[string]bool{}
	for _, c := range conns {
		waiting[c.ID()] = true
	}
	timedOut := false
	for len(waiting) > 0 && !(timedOut && good >= need) {
		select {
		case u := <-ch:
			delete(waiting, u.id)
			if u.err == nil {
				u.err = s.check(in, u.reply)
			}
			if u.err == nil {
				good++
			}
			out = append(out, u)
		case <-timeout:
			timedOut, timeout = true, nil
			if good < need {
				// Too few: the attempt fails now rather than wait on.
				for id := range waiting {
					out = append(out, update{id: id, err: fmt.Errorf("no reply within the round timeout %v", s.cfg.RoundTimeout)})
				}
				waiting = nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("server: round %d: %w", in.Round, ctx.Err())
		}
	}
	for id := range waiting {
		out = append(out, update{id: id, err: fmt.Errorf("a straggler: no reply within the round timeout %v, which %d updates closed", s.cfg.RoundTimeout, good)})
	}
	slices.SortFunc(out, func(a, b update) int { return strings.Compare(a.id, b.id) })
	return out, nil
}

// check refuses a fit reply the round cannot use.
func (s *Server) check(in *fed.Instruction, r *fed.Reply) error {
	switch {
	case r == nil:
		return errors.New("an empty reply")
	case r.NumExamples < 0:
		return fmt.Errorf("%d examples", r.NumExamples)
	case in.Kind == fed.KindFit && !s.cfg.SecureAggregation && len(r.Params) != len(s.global):
		return fmt.Errorf("%d parameters, the model has %d", len(r.Params), len(s.global))
	}
	return nil
}

// aggregate logs the clients the round lost and, with at least need
// updates left, makes the next global parameters from them. It returns
// the updates aggregated.
func (s *Server) aggregate(ctx context.Context, r int, conns []fed.Conn, got []update, need int) ([]update, error) {
	var ok []update
	var ups []strategy.Update
	for _, u := range got {
		if u.err != nil {
			fmt.Fprintf(s.log, "round %d: client %s dropped: %v\n", r, u.id, u.err)
			continue
		}
		ok = append(ok, u)
		ups = append(ups, strategy.Update{Client: u.id, Params: u.reply.Params, Weight: float64(u.reply.NumExamples)})
	}
	if s.cfg.SecureAggregation {
		if len(ok) < need {
			return nil, fmt.Errorf("%d of the %d sampled clients trained, %d needed", len(ok), len(conns), need)
		}
		return s.secureAggregate(ctx, r, conns, ok, need)
	}
	finite, bad := strategy.SplitFinite(ups)
	for _, id := range bad {
		fmt.Fprintf(s.log, "round %d: client %s dropped: its update holds NaN or Inf\n", r, id)
		ok = slices.DeleteFunc(ok, func(u update) bool { return u.id == id })
	}
	if len(finite) < need {
		return nil, fmt.Errorf("%d usable updates of the %d sampled clients, %d needed", len(finite), len(conns), need)
	}
	next := slices.Clone(s.global)
	if err := s.strat.Aggregate(r, next, finite); err != nil {
		return nil, fmt.Errorf("server: round %d: %w", r, err)
	}
	s.global = next
	return ok, nil
}
