package server

// This file holds the run directory: New creates it and writes what kiln
// eval and predict read (config.json, run.json), and save writes each
// round's metrics, TensorBoard scalars, plots, the global model and the
// state Resume reads (state.go).

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train/plots"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// The files a federated run adds to kiln train's.
const (
	ConfigFile = "fed.json"              // the server's Config
	StateFile  = "fed_state.safetensors" // the global parameters, the strategy's buffers and the round's state
)

// New creates cfg.Data.Out/cfg.Data.Name (a name from the time when
// empty), saves the state of round 0 there, and returns a Server ready to
// Run from round 1.
func New(cfg Config, env Env) (*Server, error) {
	s, err := newServer(cfg, env)
	if err != nil {
		return nil, err
	}
	if s.dir, err = run.NewRunDir(cfg.Data.Out, cfg.Data.Name); err != nil {
		return nil, err
	}
	s.cfg.Data.Name = filepath.Base(s.dir)
	if err := s.writeStatic(); err != nil {
		run.UnlockRun(s.dir)
		return nil, err
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	s.events = tfevents.NewWriter(s.dir, time.Now(), host)
	// The state of round 0 (the initial model, the sampling generator),
	// so that a run killed in its first round resumes too.
	if err := s.events.Flush(); err != nil {
		run.UnlockRun(s.dir)
		return nil, err
	}
	if err := s.saveState(); err != nil {
		run.UnlockRun(s.dir)
		return nil, err
	}
	fmt.Fprintf(s.log, "kiln: federated %s (%d parameters) over %s: %d rounds, strategy %s; test set %d examples of %v; run directory %s\n",
		cfg.Model, len(s.global), clientsNote(cfg), cfg.Rounds, cfg.Strategy, env.Test.Len(), s.spec.Shape, s.dir)
	return s, nil
}

func clientsNote(c Config) string {
	switch {
	case c.PerRound > 0:
		return fmt.Sprintf("%d clients a round of at least %d connected", c.PerRound, c.MinClients)
	case c.Fraction > 0:
		return fmt.Sprintf("%.3g of the connected clients a round (at least %d connected)", c.Fraction, c.MinClients)
	}
	return fmt.Sprintf("every connected client (at least %d)", c.MinClients)
}

// writeStatic writes fed.json, config.json and run.json.
func (s *Server) writeStatic() error {
	if err := run.WriteJSON(filepath.Join(s.dir, ConfigFile), s.cfg); err != nil {
		return err
	}
	rc := s.cfg.Data
	rc.Task, rc.Model, rc.Architecture, rc.Seed = run.TaskClassify, s.cfg.Model, s.cfg.Architecture, s.cfg.Seed
	rc.Epochs, rc.BatchSize, rc.Optimizer, rc.LR = s.cfg.Rounds*s.cfg.LocalEpochs, s.cfg.BatchSize, s.cfg.Optimizer, s.cfg.LR
	rc.Momentum, rc.WeightDecay = s.cfg.Momentum, s.cfg.WeightDecay
	if err := run.WriteJSON(filepath.Join(s.dir, run.ConfigFile), rc); err != nil {
		return err
	}
	s.info = run.RunInfo{Task: run.TaskClassify, Model: s.cfg.Model, Classes: s.spec.Classes, InputShape: s.spec.Shape,
		Transform: source.EvalTransform(s.spec.Shape), Source: s.env.Source, TestImages: s.env.Test.Len(), Parameters: len(s.model.ParamSet().Data),
		Version: s.env.Version, Started: time.Now().Format(time.RFC3339)}
	return run.WriteJSON(filepath.Join(s.dir, run.InfoFile), s.info)
}

// save commits a finished round: metrics, TensorBoard, plots, the global
// model, then the state, last, so that a kill between them leaves the
// previous round's state, which a resumed run redoes.
func (s *Server) save() error {
	st := s.history[len(s.history)-1]
	now := time.Now()
	for tag, v := range map[string]float64{"loss/test": st.TestLoss, "accuracy/test": st.TestAcc, "loss/train": st.TrainLoss,
		"accuracy/train": st.TrainAcc, "clients/updates": float64(len(st.Clients)), "clients/dropped": float64(st.Dropped)} {
		s.events.Scalar(tag, st.Round, v, now)
	}
	if s.cfg.DP {
		s.events.Scalar("privacy/epsilon", st.Round, st.Epsilon, now)
	}
	if st.EvalClients > 0 {
		s.events.Scalar("loss/clients_eval", st.Round, st.EvalLoss, now)
		s.events.Scalar("accuracy/clients_eval", st.Round, st.EvalAcc, now)
	}
	if err := s.events.Flush(); err != nil {
		return err
	}
	if err := writeMetrics(s.dir, s.history); err != nil {
		return err
	}
	if err := s.plot(); err != nil {
		return err
	}
	meta := modelMetadata(s.info)
	meta["round"] = fmt.Sprint(st.Round)
	if err := checkpoint.SaveModel(filepath.Join(s.dir, run.LastFile), s.model, meta); err != nil {
		return err
	}
	return s.saveState()
}

// modelMetadata is what kiln train's model files carry: enough to use the
// file without its run directory.
func modelMetadata(info run.RunInfo) map[string]string {
	classes, _ := json.Marshal(info.Classes)
	shape, _ := json.Marshal(info.InputShape)
	return map[string]string{"format": "pt", "framework": "kiln", "model": info.Model, "classes": string(classes),
		"input_shape": string(shape), "transform": info.Transform}
}

// plot redraws loss.png and accuracy.png.
func (s *Server) plot() error {
	n := len(s.history)
	x, tl, vl, ta, va := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, h := range s.history {
		x[i], tl[i], vl[i], ta[i], va[i] = float64(h.Round), h.TrainLoss, h.TestLoss, 100*h.TrainAcc, 100*h.TestAcc
	}
	if err := PlotRounds(filepath.Join(s.dir, run.LossPlot), s.cfg.Model+" ("+s.cfg.Strategy+"): loss", "cross-entropy",
		plots.Series{Name: "clients' training", X: x, Y: tl}, plots.Series{Name: "global model, test", X: x, Y: vl}); err != nil {
		return err
	}
	return PlotRounds(filepath.Join(s.dir, run.AccPlot), s.cfg.Model+" ("+s.cfg.Strategy+"): accuracy", "accuracy (%)",
		plots.Series{Name: "clients' training", X: x, Y: ta}, plots.Series{Name: "global model, test", X: x, Y: va})
}

// writeMetrics rewrites metrics.csv and metrics.jsonl with every round.
func writeMetrics(dir string, rounds []Round) error {
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, run.MetricsCSV), func(w io.Writer) error {
		fmt.Fprintln(w, "round,sampled,updates,dropped,examples,train_loss,train_acc,test_loss,test_acc,epsilon,seconds,eval_clients,eval_loss,eval_acc")
		for _, r := range rounds {
			fmt.Fprintf(w, "%d,%d,%d,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.3f,%d,%.6g,%.6g\n", r.Round, r.Sampled, len(r.Clients), r.Dropped, r.Examples,
				r.TrainLoss, r.TrainAcc, r.TestLoss, r.TestAcc, r.Epsilon, r.Duration.Seconds(), r.EvalClients, r.EvalLoss, r.EvalAcc)
		}
		return nil
	}); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, run.MetricsJSON), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range rounds {
			if err := enc.Encode(recordOf(r)); err != nil {
				return err
			}
		}
		return nil
	})
}
