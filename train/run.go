package train

// This file holds Run: a training run in its run directory, with
// checkpoints, metrics, TensorBoard scalars, plots, early stopping and the
// final test report. It leaves out the command line (cmd/kiln), the loop
// itself (fit.go), resuming (resume.go) and what only autoencoder runs
// write (autoencode.go).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// Options are what Run and Resume take besides the config. All are optional.
type Options struct {
	Log      io.Writer      // one line per epoch, and the final report; nil discards them
	OnStep   func(StepInfo) // sees every step, for progress bars
	Datasets *Datasets      // train on these instead of loading cfg.Data (tests, programs embedding kiln)
	Version  string         // kiln's version, recorded in run.json
	// OnEpoch sees every finished epoch once it is saved; an error it
	// returns stops training there (the run stays resumable) and comes back
	// from Run, wrapped. Tuning trials report to their pruner here.
	OnEpoch func(EpochStats) error
}

// Summary is what a run reports.
type Summary struct {
	Dir     string
	History []EpochStats // every finished epoch, those before a resume included
	Test    *Result      // nil without a test set
	Stopped string       // why training ended early, if it did
}

// InterruptedError is returned when the context is cancelled: training
// stopped after a step and its state is saved for Resume.
type InterruptedError struct {
	Dir              string
	Epoch, Batch, Of int // the epoch (from 1) and the batches of it done
	Step             int
	Err              error // the context's error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted in epoch %d after batch %d of %d (step %d); the training state is saved; continue with: kiln train --resume %s",
		e.Epoch, e.Batch, e.Of, e.Step, e.Dir)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// session is one run being trained: everything Run builds and Resume restores.
type session struct {
	cfg     Config
	opt     Options
	log     io.Writer
	dir     string
	ds      *Datasets
	info    RunInfo
	model   models.Model
	learner Learner                 // the task's step: a *Classifier, *Reconstructor or *LanguageModel
	optim   optim.Optimizer         // the learner's optimizer
	ae      *models.ConvAutoencoder // the model, for autoencoder runs; nil otherwise
	lm      *models.CharLM          // the model, for language-model runs; nil otherwise
	gens    generators
	trainL  *data.Loader
	valL    *data.Loader
	sched   optim.Scheduler
	batch   bool // the schedule steps per batch

	pos       Position
	history   []EpochStats
	best      float64
	sinceBest int
	stopped   string
	trained   bool
	events    *tfevents.Writer
}

// newSession loads the data and builds the model, optimizer, schedule and
// loaders of cfg, all from cfg.Seed.
func newSession(cfg Config, opt Options) (*session, error) {
	s := &session{cfg: cfg, opt: opt, log: opt.Log, best: math.Inf(1)}
	if s.log == nil {
		s.log = io.Discard
	}
	var err error
	if s.ds = opt.Datasets; s.ds == nil {
		if s.ds, err = LoadDatasets(cfg, s.log); err != nil {
			return nil, err
		}
	}
	ds := s.ds
	if s.model, err = newModel(cfg, cfg.task(), cfg.Model, ds.Shape, len(ds.Classes), ds.Encoder, rand.New(rand.NewPCG(cfg.Seed, 0x1217))); err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	s.gens = seedDropout(s.model, cfg.Seed)
	var initSum string
	if cfg.Init != "" {
		built := fmt.Sprintf("kiln built %s for %v inputs and %d classes", cfg.Model, ds.Shape, len(ds.Classes))
		if initSum, err = loadInit(cfg.Init, s.model, built); err != nil {
			return nil, err
		}
	}
	ps := s.model.ParamSet()
	s.optim = NewOptimizer(cfg, ps.Data, ps.Grad)
	if ae, ok := s.model.(*models.ConvAutoencoder); ok {
		s.ae = ae
		seedNoise(ae, cfg.Seed, s.gens)
		r := NewReconstructor(ae, s.optim)
		r.ClipNorm = cfg.ClipNorm
		s.learner = r
	} else if lm, ok := s.model.(*models.CharLM); ok {
		s.lm = lm
		l := NewLanguageModel(lm, s.optim)
		l.ClipNorm = cfg.ClipNorm
		s.learner = l
	} else {
		c := NewClassifier(s.model, ps, nil, s.optim)
		c.ClipNorm = cfg.ClipNorm
		s.learner = c
	}
	if s.trainL, err = data.NewLoader(ds.Train, data.LoaderOptions{BatchSize: cfg.BatchSize, Shuffle: true, Seed: cfg.Seed, Workers: cfg.Workers}); err != nil {
		return nil, err
	}
	if s.sched, s.batch, err = newScheduler(cfg, s.optim, s.trainL.NumBatches()); err != nil {
		return nil, err
	}
	if ds.Val != nil {
		if s.valL, err = s.evalLoader(ds.Val); err != nil {
			return nil, err
		}
	}
	s.info = RunInfo{Task: cfg.task(), Model: cfg.Model, Classes: ds.Classes, InputShape: ds.Shape, Transform: evalTransform(ds.Shape), Source: ds.Source,
		TrainImages: ds.Train.Len(), ValImages: lenOf(ds.Val), TestImages: lenOf(ds.Test), Parameters: ps.Len(),
		Version: opt.Version, Started: time.Now().Format(time.RFC3339), Init: cfg.Init, InitSHA256: initSum}
	return s, nil
}

// loadInit loads the starting weights of Config.Init into m, which must
// have a tensor of the same name and shape for every parameter and buffer,
// and returns the file's SHA-256, which run.json records. built says what
// m is, for the error when the file does not fit it.
func loadInit(path string, m nn.Module, built string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--init: %w", err)
	}
	f, err := checkpoint.Decode(b)
	if err != nil {
		return "", fmt.Errorf("--init %s: %w", path, err)
	}
	if err := checkpoint.LoadParams(nn.NamedParams(m), f, path); err != nil {
		return "", fmt.Errorf("--init: %w (%s; the file must hold its parameters, with the same names and shapes)", err, built)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func (s *session) evalLoader(d data.Dataset) (*data.Loader, error) {
	return data.NewLoader(d, data.LoaderOptions{BatchSize: 256, Workers: s.cfg.Workers})
}

// Run trains cfg's model on cfg's data in a new run directory under
// cfg.Out. The directory gets the resolved config, run.json, metrics (CSV,
// JSON lines, TensorBoard scalars, PNG plots), the last and best model
// checkpoints, the training state, and at the end the test report of the
// best model. Cancelling ctx stops training after the current step, saves
// the state and returns an *InterruptedError; Resume carries on from there.
func Run(ctx context.Context, cfg Config, opt Options) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Name != "" && fileExists(filepath.Join(cfg.Out, cfg.Name)) {
		_, err := NewRunDir(cfg.Out, cfg.Name) // refuses it, before the data are loaded
		return nil, err
	}
	s, err := newSession(cfg, opt)
	if err != nil {
		return nil, err
	}
	if s.dir, err = NewRunDir(cfg.Out, cfg.Name); err != nil {
		return nil, err
	}
	s.cfg.Name = filepath.Base(s.dir)
	if err := writeJSON(filepath.Join(s.dir, ConfigFile), s.cfg); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(s.dir, InfoFile), s.info); err != nil {
		return nil, err
	}
	if s.ds.Encoder != nil {
		if err := s.ds.Encoder.Save(filepath.Join(s.dir, EncoderFile)); err != nil {
			return nil, err
		}
	}
	s.events = tfevents.NewWriter(s.dir, time.Now(), hostname())
	fmt.Fprintf(s.log, "kiln: training %s (%d parameters) on %s: %d training, %d validation %s of %v%s; run directory %s\n",
		cfg.Model, s.info.Parameters, s.ds.Source, s.info.TrainImages, s.info.ValImages, s.unit(), s.ds.Shape, s.classesNote(), s.dir)
	if cfg.Init != "" {
		fmt.Fprintf(s.log, "kiln: starting from the weights in %s (sha256 %s)\n", cfg.Init, s.info.InitSHA256)
	}
	return s.run(ctx)
}

// run trains what is left, then evaluates on the test set.
func (s *session) run(ctx context.Context) (*Summary, error) {
	sum := &Summary{Dir: s.dir}
	if !s.trained {
		_, err := Fit(ctx, s.learner, s.trainL, FitConfig{
			Epochs: s.cfg.Epochs, Scheduler: s.sched, PerBatch: s.batch, Val: s.valL, Pos: &s.pos,
			CheckpointEvery: s.cfg.CheckpointEvery, OnCheckpoint: func(Position) error { return s.checkpoint() },
			OnStep: s.onStep, OnEpoch: s.onEpoch,
		})
		sum.History, sum.Stopped = s.history, s.stopped
		switch {
		case errors.Is(err, errEarlyStop):
			fmt.Fprintf(s.log, "kiln: %s\n", s.stopped)
		case err != nil && ctx.Err() != nil:
			if serr := s.checkpoint(); serr != nil {
				return sum, fmt.Errorf("train: interrupted, and saving the state failed: %w", serr)
			}
			return sum, &InterruptedError{Dir: s.dir, Epoch: s.pos.Epoch + 1, Batch: s.pos.Batch, Of: s.trainL.NumBatches(), Step: s.pos.Step, Err: ctx.Err()}
		case err != nil:
			if serr := s.checkpoint(); serr == nil {
				return sum, fmt.Errorf("%w (the training state is saved; fix the cause and continue with: kiln train --resume %s)", err, s.dir)
			}
			return sum, err
		case !s.trained:
			s.trained = true
			if err := s.checkpoint(); err != nil {
				return sum, err
			}
		}
	}
	sum.History, sum.Stopped = s.history, s.stopped
	return sum, s.finish(ctx, sum)
}

var errEarlyStop = errors.New("train: early stop")

func (s *session) onStep(si StepInfo) {
	if si.GlobalStep%10 == 0 {
		s.events.Scalar("loss/train_step", si.GlobalStep, float64(si.Loss), time.Now())
	}
	if s.opt.OnStep != nil {
		s.opt.OnStep(si)
	}
}

// onEpoch records a finished epoch everywhere and commits it with a
// checkpoint; early stopping is decided here.
func (s *session) onEpoch(st EpochStats) error {
	s.history = append(s.history, st)
	line := fmt.Sprintf("Epoch [%d/%d], Loss: %.4f, Acc: %.2f%%", st.Epoch, s.cfg.Epochs, st.TrainLoss, 100*st.TrainAcc)
	if s.valL != nil {
		line += fmt.Sprintf(", Val loss: %.4f, Val acc: %.2f%%", st.ValLoss, 100*st.ValAcc)
	}
	if s.ae != nil { // no accuracy; the losses are small, so more digits
		line = fmt.Sprintf("Epoch [%d/%d], Loss: %.5f", st.Epoch, s.cfg.Epochs, st.TrainLoss)
		if s.valL != nil {
			line += fmt.Sprintf(", Val loss: %.5f", st.ValLoss)
		}
	}
	if s.lm != nil {
		line = s.lmEpochLine(st)
	}
	fmt.Fprintf(s.log, "%s, %s\n", line, s.speed(st))
	if err := writeMetrics(s.dir, s.history); err != nil {
		return err
	}
	now := time.Now()
	s.events.Scalar("loss/train", st.Step, st.TrainLoss, now)
	if s.ae == nil && s.lm == nil {
		s.events.Scalar("accuracy/train", st.Step, st.TrainAcc, now)
	}
	if s.lm != nil {
		s.lmScalars(st, now)
	}
	if s.valL != nil {
		s.events.Scalar("loss/val", st.Step, st.ValLoss, now)
		if s.ae == nil && s.lm == nil {
			s.events.Scalar("accuracy/val", st.Step, st.ValAcc, now)
		}
	}
	s.events.Scalar("lr", st.Step, st.LR, now)
	s.events.Scalar("epoch", st.Step, float64(st.Epoch), now)
	if err := s.plotCurves(); err != nil {
		return err
	}
	score := st.TrainLoss
	if s.valL != nil {
		score = st.ValLoss
	}
	if score < s.best {
		s.best, s.sinceBest = score, 0
		if err := checkpoint.SaveModel(filepath.Join(s.dir, BestFile), s.model, s.modelMeta()); err != nil {
			return err
		}
	} else {
		s.sinceBest++
	}
	early := false
	if s.pos.Epoch >= s.cfg.Epochs {
		s.trained = true
	} else if s.cfg.Patience > 0 && s.sinceBest >= s.cfg.Patience {
		s.stopped = fmt.Sprintf("early stopping after epoch %d: no better validation loss for %d epochs", st.Epoch, s.cfg.Patience)
		s.trained, early = true, true
	}
	if err := s.checkpoint(); err != nil {
		return err
	}
	if s.opt.OnEpoch != nil {
		if err := s.opt.OnEpoch(st); err != nil {
			return err
		}
	}
	if early {
		return errEarlyStop
	}
	return nil
}

// checkpoint commits the run's progress: the TensorBoard file, the last
// model and, last of all, the training state. A kill between these writes
// leaves the previous state, which the resumed run redoes.
func (s *session) checkpoint() error {
	if err := s.events.Flush(); err != nil {
		return err
	}
	if err := checkpoint.SaveModel(filepath.Join(s.dir, LastFile), s.model, s.modelMeta()); err != nil {
		return err
	}
	st := &trainState{RNG: s.gens.save(), Best: jsonFloat(s.best), SinceBest: s.sinceBest, Stopped: s.stopped, Trained: s.trained,
		EventsFile: filepath.Base(s.events.Path()), EventRecords: s.events.Records(), LR: jsonFloat(s.optim.LR())}
	st.setPosition(s.pos)
	st.setHistory(s.history)
	if s.sched != nil {
		st.SchedulerSteps = s.sched.LastEpoch()
	}
	if m, ok := s.optim.(optim.Momentum); ok {
		v := jsonFloat(m.Momentum())
		st.Momentum = &v
	}
	return saveState(filepath.Join(s.dir, StateFile), s.model, s.optim, st)
}

// modelMeta is the metadata of last and best.safetensors: enough to use
// the file without its run directory.
func (s *session) modelMeta() map[string]string {
	m := modelMetadata(s.info)
	m["epoch"], m["step"] = fmt.Sprint(s.pos.Epoch), fmt.Sprint(s.pos.Step)
	return m
}

// modelMetadata is the metadata a model file of a run carries.
func modelMetadata(info RunInfo) map[string]string {
	classes, _ := json.Marshal(info.Classes)
	shape, _ := json.Marshal(info.InputShape)
	m := map[string]string{"format": "pt", "framework": "kiln", "model": info.Model, "classes": string(classes),
		"input_shape": string(shape), "transform": info.Transform}
	if info.Task == TaskAutoencode || info.Task == TaskLM {
		m["task"] = info.Task
	}
	return m
}

// loadBest loads best.safetensors into the model and returns "best", or
// "last" when the run has no best model yet (the model stays as it is).
func (s *session) loadBest() (string, error) {
	if _, err := checkpoint.LoadModel(filepath.Join(s.dir, BestFile), s.model); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		return "last", nil
	}
	return "best", nil
}

// finish evaluates the best model on the test set and writes the report,
// the confusion matrix plot and the test scalars.
func (s *session) finish(ctx context.Context, sum *Summary) error {
	if s.ae != nil {
		return s.finishAutoencoder(ctx, sum, s.ae)
	}
	if s.lm != nil {
		return s.finishLM(ctx, sum)
	}
	if s.ds.Test == nil {
		why := "the data has no test split"
		if s.cfg.NoTest {
			why = "no_test: the test set is kept for the selected model"
		}
		fmt.Fprintf(s.log, "kiln: no test set (%s); the run is in %s\n", why, s.dir)
		return nil
	}
	which, err := s.loadBest()
	if err != nil {
		return err
	}
	tl, err := s.evalLoader(s.ds.Test)
	if err != nil {
		return err
	}
	r, err := Evaluate(ctx, s.learner, tl, s.ds.Classes)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted during the test evaluation; training is finished and saved; evaluate with: kiln train --resume %s: %w", s.dir, err)
		}
		return err
	}
	sum.Test = &r
	fmt.Fprintf(s.log, "Test accuracy of the %s model: %.2f%% (%d %s), loss %.4f\n\n%s", which, 100*r.Accuracy, r.Confusion.Total(), s.unit(), r.Loss, r.Confusion.Report())
	if err := plotConfusion(filepath.Join(s.dir, ConfPlot), "test set, "+which+" model", r.Confusion); err != nil {
		return err
	}
	now := time.Now()
	s.events.Scalar("accuracy/test", s.pos.Step, r.Accuracy, now)
	s.events.Scalar("loss/test", s.pos.Step, r.Loss, now)
	if err := s.events.Flush(); err != nil {
		return err
	}
	rep := fmt.Sprintf("test accuracy %.4f, loss %.4f, %d %s, %s model\n\n%s", r.Accuracy, r.Loss, r.Confusion.Total(), s.unit(), which, r.Confusion.Report())
	return checkpoint.WriteFileAtomic(filepath.Join(s.dir, ReportFile), func(w io.Writer) error {
		_, err := io.WriteString(w, rep)
		return err
	})
}

func lenOf(d data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.Len()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}
