package task

// This file writes and reads a run's model files as training goes: the
// checkpoint (last model, TensorBoard, training state), the metadata the
// model files carry, and loading the best model for the test. It leaves
// out the loop that calls them (run.go) and resuming (resume.go).

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
)

// checkpoint commits the run's progress: the TensorBoard file, the last
// model and, last of all, the training state. A kill between these writes
// leaves the previous state, which the resumed run redoes.
func (s *session) checkpoint() error {
	if err := train.SyncToHost(s.learner); err != nil {
		return err
	}
	rankRNG, err := s.rankGenerators()
	if err != nil {
		return err
	}
	if !s.writes() {
		s.savedStep = s.loop.Pos.Step
		return nil
	}
	if err := s.events.Flush(); err != nil {
		return err
	}
	if err := checkpoint.SaveModel(filepath.Join(s.dir, run.LastFile), s.model, s.modelMeta()); err != nil {
		return err
	}
	st := &run.State{RNG: s.gens.Save(), Best: run.JSONFloat(s.best.Score), SinceBest: s.best.SinceBest, Stopped: s.loop.Stopped(), Trained: s.trained,
		EventsFile: filepath.Base(s.events.Path()), EventRecords: s.events.Records(), LR: run.JSONFloat(s.optim.LR())}
	if s.rep != nil {
		st.Ranks, st.RankRNG = s.ranks(), rankRNG
	}
	st.SetPosition(s.loop.Pos)
	st.SetHistory(s.loop.History)
	if s.sched != nil {
		st.SchedulerSteps = s.sched.LastEpoch()
	}
	if m, ok := s.optim.(optim.Momentum); ok {
		v := run.JSONFloat(m.Momentum())
		st.Momentum = &v
	}
	if err := run.SaveState(filepath.Join(s.dir, run.StateFile), s.model, s.optim, st); err != nil {
		return err
	}
	s.savedStep = s.loop.Pos.Step
	return nil
}

// modelMeta is the metadata of last and best.safetensors: enough to use
// the file without its run directory.
func (s *session) modelMeta() map[string]string {
	m := modelMetadata(s.info)
	m["epoch"], m["step"] = fmt.Sprint(s.loop.Pos.Epoch), fmt.Sprint(s.loop.Pos.Step)
	return m
}

// modelMetadata is the metadata a model file of a run carries.
func modelMetadata(info run.RunInfo) map[string]string {
	classes, _ := json.Marshal(info.Classes)
	shape, _ := json.Marshal(info.InputShape)
	m := map[string]string{"format": "pt", "framework": "kiln", "model": info.Model, "classes": string(classes),
		"input_shape": string(shape), "transform": info.Transform}
	if info.Task == run.TaskAutoencode || info.Task == run.TaskLM {
		m["task"] = info.Task
	}
	return m
}

// loadBest loads best.safetensors into the model and returns "best", or
// "last" when the run has no best model yet (the model stays as it is).
func (s *session) loadBest() (string, error) {
	if !s.writes() {
		return "", nil // rank 0 loads it and broadcasts it
	}
	if _, err := checkpoint.LoadModel(filepath.Join(s.dir, run.BestFile), s.model); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		return "last", nil
	}
	if err := train.SyncFromHost(s.learner); err != nil {
		return "", err
	}
	return "best", nil
}
