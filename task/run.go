package task

// This file holds Run: a training run in its run directory. It builds the
// session (data, model, optimizer, schedule, loaders) and the loop's
// callbacks: the epoch line, metrics, TensorBoard, plots, the best model
// and early stopping, and the checkpoints. It leaves out the command line
// (cmd/kiln), the loop itself (package train), the run directory's files
// (package run), resuming (resume.go) and each task's own figures and
// final report (kind.go, autoencode.go, lm.go).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/kiln-ml/kiln/dist"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// Options are what Run and Resume take besides the config. All are optional.
type Options struct {
	Log      io.Writer            // one line per epoch, and the final report; nil discards them
	OnStep   func(train.StepInfo) // sees every step, for progress bars
	Datasets *source.Datasets     // train on these instead of loading cfg.Data (tests, programs embedding kiln)
	Version  string               // kiln's version, recorded in run.json
	// OnEpoch sees every finished epoch once it is saved; an error it
	// returns stops training there (the run stays resumable) and comes back
	// from Run, wrapped. Tuning trials report to their pruner here.
	OnEpoch func(train.EpochStats) error

	// Comm makes the run one rank of a data-parallel job (dist, dist/mpi):
	// every rank calls Run (or Resume) with the same config; rank 0 writes
	// the run directory. nil, or a communicator of one rank, trains in one
	// process.
	Comm dist.Communicator
	// CheckReplicas, in a data-parallel run, checks every so many steps
	// that all ranks hold the same parameters to the bit; 0 never does.
	CheckReplicas int
	// BucketBytes, in a data-parallel run, sizes the gradient buckets
	// (0: DDP's 1 MiB first bucket, then 25 MiB). Smaller buckets start
	// all-reducing earlier in backward, in more calls.
	BucketBytes int

	// Backend runs the step when the config names a Device; nil opens
	// it by name (backend.Open). The command line opens it first, so that
	// a missing GPU fails before the data are loaded.
	Backend backend.Backend
}

// Summary is what a run reports.
type Summary struct {
	Dir     string
	History []train.EpochStats // every finished epoch, those before a resume included
	Test    *train.Result      // nil without a test set
	Stopped string             // why training ended early, if it did
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
	cfg     run.Config
	opt     Options
	log     io.Writer
	dir     string
	ds      *source.Datasets
	info    run.RunInfo
	model   models.Model
	task    kind            // what differs between the tasks: their learner, figures and final report
	learner train.Learner   // the task's step: a *train.Classifier, *Reconstructor or *LanguageModel
	ownDev  backend.Backend // a device backend the session opened itself (release closes it)
	optim   optim.Optimizer // the learner's optimizer
	gens    run.Generators
	trainL  *data.Loader
	valL    *data.Loader
	sched   optim.Scheduler
	batch   bool // the schedule steps per batch

	rep       *replicas   // data-parallel training; nil in one process
	savedStep int         // the step of the last checkpoint
	loop      *train.Loop // its Pos and History are the run's progress
	best      *run.Best   // the best model and early stopping
	trained   bool
	events    *tfevents.Writer
}

// newSession loads the data and builds the model, optimizer, schedule and
// loaders of cfg, all from cfg.Seed.
func newSession(cfg run.Config, opt Options) (*session, error) {
	s := &session{cfg: cfg, opt: opt, log: opt.Log}
	if s.log == nil {
		s.log = io.Discard
	}
	if opt.Comm != nil && opt.Comm.Size() > 1 {
		s.rep = &replicas{comm: opt.Comm}
	}
	var err error
	if s.ds = opt.Datasets; s.ds == nil {
		if s.ds, err = source.LoadDatasets(cfg, s.log); err != nil {
			return nil, err
		}
	}
	ds := s.ds
	if s.model, err = NewModel(cfg, cfg.TaskName(), cfg.Model, ds.Shape, len(ds.Classes), ds.Encoder, rand.New(rand.NewPCG(cfg.Seed, 0x1217))); err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	s.gens = run.SeedDropout(s.model, rankSeed(cfg.Seed, s.rank()))
	var initSum string
	if cfg.Init != "" {
		built := fmt.Sprintf("kiln built %s for %v inputs and %d classes", cfg.Model, ds.Shape, len(ds.Classes))
		if initSum, err = loadInit(cfg.Init, s.model, built); err != nil {
			return nil, err
		}
	}
	ps := s.model.ParamSet()
	s.optim = NewOptimizer(cfg, ps.Data, ps.Grad)
	s.task, s.learner = newKind(s.model, s.ds, s.optim, cfg, s.gens, rankSeed(cfg.Seed, s.rank()))
	if err := s.useDevice(); err != nil {
		return nil, err
	}
	if s.trainL, err = data.NewLoader(ds.Train, data.LoaderOptions{BatchSize: cfg.BatchSize * s.ranks(), Shuffle: true, Seed: cfg.Seed, Workers: cfg.Workers,
		Shard: s.rank(), Shards: s.ranks()}); err != nil {
		return nil, err
	}
	if cfg.DP {
		if err := s.useDP(); err != nil { // Poisson batches and the DP-SGD step (dp.go)
			return nil, err
		}
	}
	if s.sched, s.batch, err = newScheduler(cfg, s.optim, s.trainL.NumBatches()); err != nil {
		return nil, err
	}
	if ds.Val != nil {
		if s.valL, err = s.evalLoader(ds.Val); err != nil {
			return nil, err
		}
	}
	s.info = run.RunInfo{Task: cfg.TaskName(), Model: cfg.Model, Classes: ds.Classes, InputShape: ds.Shape, Transform: source.EvalTransform(ds.Shape), Source: ds.Source,
		TrainImages: ds.Train.Len(), ValImages: lenOf(ds.Val), TestImages: lenOf(ds.Test), Parameters: ps.Len(),
		Version: opt.Version, Started: time.Now().Format(time.RFC3339), Init: cfg.Init, InitSHA256: initSum}
	if s.rep != nil {
		s.info.Ranks = s.ranks()
	}
	if s.rep != nil {
		if err := s.joinReplicas(); err != nil {
			return nil, err
		}
	}
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
	return data.NewLoader(d, data.LoaderOptions{BatchSize: 256 * s.ranks(), Workers: s.cfg.Workers, Shard: s.rank(), Shards: s.ranks()})
}

// Run trains cfg's model on cfg's data in a new run directory under
// cfg.Out. The directory gets the resolved config, run.json, metrics (CSV,
// JSON lines, TensorBoard scalars, PNG plots), the last and best model
// checkpoints, the training state, and at the end the test report of the
// best model. Cancelling ctx stops training after the current step, saves
// the state and returns an *InterruptedError; Resume carries on from there.
func Run(ctx context.Context, cfg run.Config, opt Options) (*Summary, error) {
	if err := cfg.ReadArchitecture(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Name != "" && run.Exists(filepath.Join(cfg.Out, cfg.Name)) && (opt.Comm == nil || opt.Comm.Rank() == 0) {
		_, err := run.NewRunDir(cfg.Out, cfg.Name) // refuses it, before the data are loaded
		return nil, err
	}
	s, err := newSession(cfg, opt)
	if err != nil {
		return nil, err
	}
	defer s.release()
	if !s.writes() {
		s.newLoop()
		return s.run(ctx)
	}
	if s.dir, err = run.NewRunDir(cfg.Out, cfg.Name); err != nil {
		return nil, err
	}
	defer run.UnlockRun(s.dir)
	s.cfg.Name = filepath.Base(s.dir)
	if err := run.WriteJSON(filepath.Join(s.dir, run.ConfigFile), s.cfg); err != nil {
		return nil, err
	}
	if err := run.WriteJSON(filepath.Join(s.dir, run.InfoFile), s.info); err != nil {
		return nil, err
	}
	if s.ds.Encoder != nil {
		if err := s.ds.Encoder.Save(filepath.Join(s.dir, source.EncoderFile)); err != nil {
			return nil, err
		}
	}
	s.events = tfevents.NewWriter(s.dir, time.Now(), hostname())
	s.newLoop()
	fmt.Fprintf(s.log, "kiln: training %s (%d parameters) on %s: %d training, %d validation %s of %v%s; run directory %s\n",
		cfg.Model, s.info.Parameters, s.ds.Source, s.info.TrainImages, s.info.ValImages, s.task.unit(), s.ds.Shape, s.task.classesNote(), s.dir)
	if cfg.Init != "" {
		fmt.Fprintf(s.log, "kiln: starting from the weights in %s (sha256 %s)\n", cfg.Init, s.info.InitSHA256)
	}
	if s.rep != nil {
		s.rep.describe(s.log, cfg.BatchSize)
	}
	return s.run(ctx)
}

// run trains what is left, then evaluates on the test set.
func (s *session) run(ctx context.Context) (*Summary, error) {
	sum := &Summary{Dir: s.dir}
	if !s.trained {
		loopCtx := ctx
		if s.rep != nil {
			// The ranks agree on when to stop (train.Loop.Interrupted).
			loopCtx = context.WithoutCancel(ctx)
			s.loop.Interrupted = func() bool { return ctx.Err() != nil }
		}
		err := s.loop.Run(loopCtx)
		sum.History, sum.Stopped = s.loop.History, s.loop.Stopped()
		var cerr *train.CallbackError
		switch {
		case err != nil && errors.As(err, &cerr):
			if ctx.Err() != nil {
				return sum, fmt.Errorf("task: interrupted, and saving the state failed: %w", errors.Join(cerr.Callbacks...))
			}
			return sum, cerr.Err
		case err != nil && (ctx.Err() != nil || s.rep != nil && errors.Is(err, context.Canceled)):
			pos := s.loop.Pos
			return sum, &InterruptedError{Dir: s.dir, Epoch: pos.Epoch + 1, Batch: pos.Batch, Of: s.trainL.NumBatches(), Step: pos.Step, Err: ctx.Err()}
		case err != nil && train.IsReplicaError(err):
			return sum, fmt.Errorf("%w (the ranks may no longer agree, so nothing more is saved; resume from the last checkpoint, step %d, with the same number of ranks)", err, s.savedStep)
		case err != nil:
			return sum, fmt.Errorf("%w (the training state is saved; fix the cause and continue with: kiln train --resume %s)", err, s.dir)
		case s.loop.Stopped() != "":
			fmt.Fprintf(s.log, "kiln: %s\n", s.loop.Stopped())
		case !s.trained:
			s.trained = true
			if err := s.checkpoint(); err != nil {
				return sum, err
			}
		}
	}
	sum.History, sum.Stopped = s.loop.History, s.loop.Stopped()
	if s.rep != nil {
		s.rep.report(s.log, s.info.Parameters)
	}
	return sum, s.task.finish(ctx, s, sum)
}

// newLoop builds the training loop and its callbacks, in the order they
// run after every epoch: the log line, the metrics files, TensorBoard, the
// plots, the best model (and early stopping), the training state, and the
// caller's own callbacks.
func (s *session) newLoop() {
	val := s.valL != nil
	s.best = &run.Best{Val: val, Patience: s.cfg.Patience, Score: math.Inf(1),
		Save: func() error {
			if !s.writes() {
				return nil
			}
			return checkpoint.SaveModel(filepath.Join(s.dir, run.BestFile), s.model, s.modelMeta())
		}}
	var progress train.Callback = train.Base{}
	if s.opt.OnStep != nil {
		progress = train.Funcs{Step: func(_ *train.Loop, si train.StepInfo) error {
			s.opt.OnStep(si)
			return nil
		}}
	}
	var cbs []train.Callback
	if s.writes() {
		cbs = []train.Callback{
			train.Funcs{Epoch: func(_ *train.Loop, st train.EpochStats) error {
				fmt.Fprintf(s.log, "%s, %s\n", s.task.epochLine(st, s.cfg, val), s.task.speed(st, s.cfg))
				return nil
			}},
			run.Metrics{Dir: s.dir, Extra: extraColumns(s.task)},
			run.Scalars{W: s.events, Val: val, Accuracy: s.task.accuracy(), Extra: s.task.scalars(val)},
			run.Curves{Dir: s.dir, Model: s.cfg.Model, LossLabel: s.task.lossLabel(), Val: val, Accuracy: s.task.accuracy()},
		}
	}
	cbs = append([]train.Callback{dpCheck(s.learner)}, cbs...)
	cbs = append(cbs,
		s.best,
		progress,
		train.EveryNSteps(s.cfg.CheckpointEvery, func(*train.Loop) error { return s.checkpoint() }),
		train.Funcs{
			Epoch: func(l *train.Loop, _ train.EpochStats) error {
				s.trained = l.Done()
				return s.checkpoint()
			},
			Interrupt: func(_ *train.Loop, err error) error {
				if train.IsReplicaError(err) {
					return nil // the ranks may disagree: keep the last checkpoint
				}
				return s.checkpoint()
			},
		},
	)
	if s.rep != nil {
		if sb := s.syncBuffers(); sb != nil {
			cbs = append([]train.Callback{sb}, cbs...) // before the checkpoints
		}
		if s.opt.CheckReplicas > 0 {
			cbs = append(cbs, s.checkReplicas(s.opt.CheckReplicas))
		}
	}
	if s.opt.OnEpoch != nil {
		cbs = append(cbs, train.Funcs{Epoch: func(_ *train.Loop, st train.EpochStats) error { return s.opt.OnEpoch(st) }})
	}
	s.loop = &train.Loop{Learner: s.learner, Train: s.trainL, Epochs: s.cfg.Epochs, Scheduler: s.sched, PerBatch: s.batch,
		Val: s.valL, Callbacks: cbs, Replicas: s.replicaSums()}
}

func lenOf(d data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.Len()
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}
