package rlrun

// This file runs training: Train starts a run directory, Resume continues
// one, and both go through loop, which iterates the agent and writes the
// metrics, the TensorBoard scalars, the plot and the checkpoints.

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/rl"
	"github.com/kiln-ml/kiln/rl/agent"
	"github.com/kiln-ml/kiln/rl/classic"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// Options are what a caller adds to a run beyond its Config.
type Options struct {
	Log io.Writer // one line per metrics row; nil for none
	// OnIteration, when set, runs after every iteration with the
	// environment steps so far; an error stops training at once without
	// saving, as a crash would (tests use it).
	OnIteration func(steps int) error
}

// session is one run's live objects.
type session struct {
	dir   string
	cfg   Config
	vec   *rl.Vec
	agent agent.Agent
	p     *progress
	tb    *tfevents.Writer
	opt   Options
}

// build makes the vector and the agent a config describes.
func build(cfg Config) (*rl.Vec, agent.Agent, error) {
	mk, err := classic.Maker(cfg.Env)
	if err != nil {
		return nil, nil, err
	}
	v := rl.NewVec(mk, cfg.Envs, cfg.Seed)
	a, err := agent.New(cfg.OnPolicy, cfg.DQN, v.Spec, cfg.Envs, cfg.Seed)
	return v, a, err
}

// Train makes out/name (run.NewRunDir) and trains the agent cfg describes
// in it. It returns the directory, also when training stopped early: on
// ctx's cancellation it saves the state first and returns ctx's error.
func Train(ctx context.Context, cfg Config, out, name string, opt Options) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	v, a, err := build(cfg)
	if err != nil {
		return "", err
	}
	dir, err := run.NewRunDir(out, name)
	if err != nil {
		return "", fmt.Errorf("rlrun: %w", err)
	}
	if err := run.WriteJSON(filepath.Join(dir, ConfigFile), cfg); err != nil {
		return dir, err
	}
	host, _ := os.Hostname()
	tb := tfevents.NewWriter(dir, time.Now(), host)
	p := &progress{NextLog: cfg.LogEvery, NextSave: cfg.CheckpointEvery, NextEval: cfg.EvalEvery, Best: -1, EventsFile: filepath.Base(tb.Path())}
	s := &session{dir: dir, cfg: cfg, vec: v, agent: a, p: p, tb: tb, opt: opt}
	return dir, s.loop(ctx)
}

// Resume continues the run in dir from its state.safetensors. A finished
// run is left as it is.
func Resume(ctx context.Context, dir string, opt Options) error {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return err
	}
	v, a, err := build(cfg)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, StateFile)
	if !run.Exists(path) {
		return fmt.Errorf("rlrun: %s has no %s: it stopped before its first checkpoint; train it again under another --name", dir, StateFile)
	}
	p, err := loadState(path, a)
	if err != nil {
		return err
	}
	if p.Done {
		return nil
	}
	if err := v.SetState(p.Vec); err != nil {
		return fmt.Errorf("rlrun: %s: %w", dir, err)
	}
	tb, err := tfevents.OpenWriter(filepath.Join(dir, p.EventsFile), p.EventRecords)
	if err != nil {
		return err
	}
	s := &session{dir: dir, cfg: cfg, vec: v, agent: a, p: p, tb: tb, opt: opt}
	return s.loop(ctx)
}

// loop iterates until the budget is spent or ctx is cancelled.
func (s *session) loop(ctx context.Context) error {
	start := time.Now().Add(-time.Duration(s.p.ElapsedNS))
	for s.vec.Steps < s.cfg.Steps {
		if ctx.Err() != nil {
			s.p.ElapsedNS = int64(time.Since(start))
			if err := s.checkpoint(); err != nil {
				return err
			}
			return fmt.Errorf("rlrun: stopped at %d of %d steps (continue with --resume %s): %w", s.vec.Steps, s.cfg.Steps, s.dir, ctx.Err())
		}
		stats := s.agent.Iterate(s.vec, s.cfg.Steps)
		s.p.Iteration++
		s.p.Episodes = append(s.p.Episodes, s.vec.TakeEpisodes()...)
		done := s.vec.Steps >= s.cfg.Steps
		if s.vec.Steps >= s.p.NextLog || done {
			for s.p.NextLog <= s.vec.Steps {
				s.p.NextLog += s.cfg.LogEvery
			}
			if err := s.record(stats, time.Since(start)); err != nil {
				return err
			}
		}
		if s.cfg.EvalEvery > 0 && (s.vec.Steps >= s.p.NextEval || done) {
			for s.p.NextEval <= s.vec.Steps {
				s.p.NextEval += s.cfg.EvalEvery
			}
			if err := s.evaluate(); err != nil {
				return err
			}
		}
		if s.opt.OnIteration != nil {
			if err := s.opt.OnIteration(s.vec.Steps); err != nil {
				return err
			}
		}
		if s.vec.Steps >= s.p.NextSave || done {
			for s.p.NextSave <= s.vec.Steps {
				s.p.NextSave += s.cfg.CheckpointEvery
			}
			s.p.ElapsedNS = int64(time.Since(start))
			s.p.Done = done
			if err := s.checkpoint(); err != nil {
				return err
			}
		}
	}
	return nil
}

// evaluate plays Config.EvalEpisodes episodes with the deterministic
// policy in environments of their own, seeded by the run's seed and the
// evaluation's index (so that resuming repeats them exactly), records the
// result and keeps the best networks in best.safetensors.
func (s *session) evaluate() error {
	mk, err := classic.Maker(s.cfg.Env)
	if err != nil {
		return err
	}
	seed := s.cfg.Seed*1_000_003 + 1_000_000 + uint64(len(s.p.Evals))*1000
	mean, std := agent.MeanStd(agent.Evaluate(s.agent, rl.NewVec(mk, min(s.cfg.EvalEpisodes, 16), seed), s.cfg.EvalEpisodes))
	s.p.Evals = append(s.p.Evals, Eval{Steps: s.vec.Steps, Mean: run.JSONFloat(mean), Std: run.JSONFloat(std)})
	s.tb.Scalar("eval/mean_reward", s.vec.Steps, mean, time.Now())
	if s.opt.Log != nil {
		fmt.Fprintf(s.opt.Log, "eval at %d steps: mean return %.1f ± %.1f over %d episodes\n", s.vec.Steps, mean, std, s.cfg.EvalEpisodes)
	}
	if s.p.Best >= 0 && !(mean > float64(s.p.Evals[s.p.Best].Mean)) {
		return nil
	}
	s.p.Best = len(s.p.Evals) - 1
	meta := map[string]string{"env": s.cfg.Env, "algo": s.cfg.Algo, "steps": fmt.Sprint(s.vec.Steps), "eval_mean": fmt.Sprint(mean)}
	return checkpoint.SaveModel(filepath.Join(s.dir, BestFile), s.agent.Model(), meta)
}

// recentMeans returns the mean return and length of the last 100 episodes.
func recentMeans(eps []rl.Episode) (ret, length float64) {
	if len(eps) == 0 {
		return math.NaN(), math.NaN()
	}
	eps = eps[max(0, len(eps)-100):]
	for _, e := range eps {
		ret += e.Return
		length += float64(e.Length)
	}
	return ret / float64(len(eps)), length / float64(len(eps))
}

// record adds a metrics row, its TensorBoard scalars and its log line, and
// rewrites metrics.csv.
func (s *session) record(stats []agent.Stat, elapsed time.Duration) error {
	ret, length := recentMeans(s.p.Episodes)
	row := Row{Steps: s.vec.Steps, Iteration: s.p.Iteration, Episodes: len(s.p.Episodes), ReturnMean: run.JSONFloat(ret),
		LengthMean: run.JSONFloat(length), Seconds: math.Round(elapsed.Seconds()*1000) / 1000}
	now := time.Now()
	if len(s.p.Episodes) > 0 {
		s.tb.Scalar("rollout/ep_rew_mean", row.Steps, ret, now)
		s.tb.Scalar("rollout/ep_len_mean", row.Steps, length, now)
	}
	var line strings.Builder
	fmt.Fprintf(&line, "steps %d/%d  episodes %d  return %.1f (last 100)", row.Steps, s.cfg.Steps, row.Episodes, ret)
	for _, st := range stats {
		row.Names = append(row.Names, st.Name)
		row.Values = append(row.Values, run.JSONFloat(st.Value))
		s.tb.Scalar("train/"+st.Name, row.Steps, st.Value, now)
		if st.Name == "loss" {
			fmt.Fprintf(&line, "  loss %.4g", st.Value)
		}
	}
	fmt.Fprintf(&line, "  %.1fs", elapsed.Seconds())
	s.p.Rows = append(s.p.Rows, row)
	if s.opt.Log != nil {
		fmt.Fprintln(s.opt.Log, line.String())
	}
	return writeMetrics(filepath.Join(s.dir, MetricsCSV), s.p.Rows)
}

// writeMetrics rewrites metrics.csv with every row; the agent's
// statistics take the columns of the latest row's names.
func writeMetrics(path string, rows []Row) error {
	var names []string
	for _, r := range rows {
		if len(r.Names) > len(names) {
			names = r.Names
		}
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		fmt.Fprintf(w, "steps,iteration,episodes,ep_rew_mean,ep_len_mean,seconds")
		for _, n := range names {
			fmt.Fprintf(w, ",%s", n)
		}
		fmt.Fprintln(w)
		for _, r := range rows {
			fmt.Fprintf(w, "%d,%d,%d,%.6g,%.6g,%.3f", r.Steps, r.Iteration, r.Episodes, float64(r.ReturnMean), float64(r.LengthMean), r.Seconds)
			for _, n := range names {
				v := math.NaN()
				for i, rn := range r.Names {
					if rn == n {
						v = float64(r.Values[i])
					}
				}
				fmt.Fprintf(w, ",%.6g", v)
			}
			fmt.Fprintln(w)
		}
		return nil
	})
}

// checkpoint writes the TensorBoard file, the plot, the model and, last,
// the state that names them.
func (s *session) checkpoint() error {
	if err := s.tb.Flush(); err != nil {
		return err
	}
	s.p.EventRecords = s.tb.Records()
	if err := plotReturns(filepath.Join(s.dir, ReturnsPlot), s.cfg, s.p.Episodes); err != nil {
		return err
	}
	meta := map[string]string{"env": s.cfg.Env, "algo": s.cfg.Algo, "steps": fmt.Sprint(s.vec.Steps)}
	if err := checkpoint.SaveModel(filepath.Join(s.dir, ModelFile), s.agent.Model(), meta); err != nil {
		return err
	}
	s.p.Vec = s.vec.State()
	s.p.Agent = s.agent.State()
	return saveState(filepath.Join(s.dir, StateFile), s.agent, s.p)
}
