package client

// This file holds Trainer, the client's fed.Handler: fit (local training
// from the global parameters) and evaluate (on the client's own test
// data). It leaves out secure aggregation's stages, which fed/secure's
// wrapper answers.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/privacy"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
)

// The metrics a Trainer's replies carry.
const (
	MetricTrainLoss = "train_loss"     // fit: mean loss over the last local epoch
	MetricTrainAcc  = "train_accuracy" // fit: accuracy over the last local epoch, before each step
	MetricEpsilon   = "epsilon"        // fit with DP: epsilon spent so far at the instruction's delta
	MetricLoss      = "loss"           // evaluate
	MetricAccuracy  = "accuracy"       // evaluate
)

// Options are a Trainer's data and surroundings.
type Options struct {
	// Name is the client's name; with the run's seed and the round it
	// seeds the client's shuffling, dropout and DP noise.
	Name string
	// Train is the client's training data; required.
	Train data.Dataset
	// Test is what evaluate instructions score; nil scores Train.
	Test data.Dataset
	// Workers decode batches (data.LoaderOptions.Workers); 0 decodes in
	// the training goroutine.
	Workers int
	// Log gets one line per instruction; nil discards them.
	Log io.Writer
	// AccountFile, when set, keeps the client's DP account (the steps of
	// DP-SGD it has taken on its data, every round and run) across
	// restarts of its process: read when the Trainer is made, rewritten
	// after every DP fit. Empty keeps it in memory, so a restarted client
	// would count its epsilon from zero again.
	AccountFile string
}

// Trainer is a federated client training a zoo model on its own data.
// It handles one instruction at a time (fed.Handler's contract).
type Trainer struct {
	opt Options
	log io.Writer

	mu         sync.Mutex
	accountant privacy.Accountant // DP steps of every round trained so far
	warned     bool               // said once that the account lives in memory only
}

var _ fed.Handler = (*Trainer)(nil)

// NewTrainer returns a Trainer over o's data.
func NewTrainer(o Options) (*Trainer, error) {
	if o.Train == nil || o.Train.Len() == 0 {
		return nil, fmt.Errorf("client: %s has no training data", o.Name)
	}
	if len(o.Train.Shape()) != 3 || len(o.Train.Classes()) == 0 {
		return nil, fmt.Errorf("client: %s's data gives examples of shape %v with %d classes; federated clients train image classifiers ([C, H, W] with class names)",
			o.Name, o.Train.Shape(), len(o.Train.Classes()))
	}
	t := &Trainer{opt: o, log: o.Log}
	if t.log == nil {
		t.log = io.Discard
	}
	if o.AccountFile != "" {
		b, err := os.ReadFile(o.AccountFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("client: %s: DP account: %w", o.Name, err)
		default:
			if err := json.Unmarshal(b, &t.accountant); err != nil {
				return nil, fmt.Errorf("client: %s: DP account %s: %w", o.Name, o.AccountFile, err)
			}
		}
	}
	return t, nil
}

// saveAccount writes the DP account to Options.AccountFile, atomically.
func (t *Trainer) saveAccount() error {
	if t.opt.AccountFile == "" {
		return nil
	}
	b, err := json.Marshal(t.accountant)
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(t.opt.AccountFile, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// Handle answers fit and evaluate instructions.
func (t *Trainer) Handle(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cfg, err := ParseConfig(in.Config)
	if err != nil {
		return nil, err
	}
	switch in.Kind {
	case fed.KindFit:
		return t.fit(ctx, in.Round, in.Params, cfg)
	case fed.KindEvaluate:
		return t.evaluate(ctx, in.Params, cfg)
	}
	return nil, fmt.Errorf("client: %s: instruction %q: this client answers fit and evaluate (secure aggregation needs fed/secure's wrapper)", t.opt.Name, in.Kind)
}

// fit trains the global parameters for cfg.Epochs local epochs.
func (t *Trainer) fit(ctx context.Context, round int, global []float32, cfg Config) (*fed.Reply, error) {
	ds, err := t.match(t.opt.Train, cfg.Spec, "training data")
	if err != nil {
		return nil, err
	}
	model, err := t.load(cfg.Spec, global)
	if err != nil {
		return nil, err
	}
	seed := roundSeed(cfg.Seed, round, t.opt.Name)
	run.SeedDropout(model, seed)
	ps := model.ParamSet()
	opt := optim.New(cfg.Optimizer, ps.Data, ps.Grad, cfg.LR, cfg.Momentum, cfg.WeightDecay)
	if cfg.ProximalMu > 0 {
		opt = &proximal{Optimizer: opt, mu: float32(cfg.ProximalMu), global: slices.Clone(ps.Data), w: ps.Data, g: ps.Grad}
	}
	var loss, acc float64
	metrics := map[string]float64{}
	if cfg.DP {
		if loss, acc, err = t.fitDP(ctx, ds, model, ps, opt, cfg, seed); err != nil {
			return nil, err
		}
		eps, _, err := t.accountant.Epsilon(cfg.Delta)
		if err != nil {
			return nil, fmt.Errorf("client: %s: %w", t.opt.Name, err)
		}
		metrics[MetricEpsilon] = eps
	} else {
		loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: cfg.BatchSize, Shuffle: true, Seed: seed, Workers: t.opt.Workers})
		if err != nil {
			return nil, err
		}
		loop := &train.Loop{Learner: train.NewClassifier(model, ps, nil, opt), Train: loader, Epochs: cfg.Epochs}
		if err := loop.Run(ctx); err != nil {
			return nil, fmt.Errorf("client: %s: round %d: %w", t.opt.Name, round, err)
		}
		last := loop.History[len(loop.History)-1]
		loss, acc = last.TrainLoss, last.TrainAcc
	}
	metrics[MetricTrainLoss], metrics[MetricTrainAcc] = loss, acc
	epochs := fmt.Sprintf("%d local epochs", cfg.Epochs)
	if cfg.Epochs == 1 {
		epochs = "1 local epoch"
	}
	fmt.Fprintf(t.log, "client %s: round %d: trained %s on %d examples, loss %.4f, accuracy %.2f%%%s\n",
		t.opt.Name, round, epochs, ds.Len(), loss, 100*acc, epsNote(metrics))
	return &fed.Reply{NumExamples: ds.Len(), Params: Flatten(model), Metrics: metrics}, nil
}

func epsNote(m map[string]float64) string {
	if eps, ok := m[MetricEpsilon]; ok {
		return fmt.Sprintf(", epsilon %.3f so far", eps)
	}
	return ""
}

// fitDP trains with DP-SGD: Poisson batches of expected size
// cfg.BatchSize, round(1/q) steps per epoch as Opacus's DPDataLoader
// takes, the steps recorded by the client's accountant. It returns the
// last epoch's mean loss and accuracy.
func (t *Trainer) fitDP(ctx context.Context, ds data.Dataset, model nn.Module, ps *nn.ParamSet, opt optim.Optimizer, cfg Config, seed uint64) (_, _ float64, err error) {
	n := ds.Len()
	q := math.Min(1, float64(cfg.BatchSize)/float64(n))
	rng := rand.New(rand.NewPCG(seed, 0xd9))
	dpc, err := privacy.NewDPClassifier(model, ps, nil, opt, privacy.DPConfig{MaxGradNorm: cfg.MaxGradNorm, NoiseMultiplier: cfg.NoiseMultiplier,
		SampleRate: q, ExpectedBatch: max(1, int(math.Round(q*float64(n))))}, rng)
	if err != nil {
		return 0, 0, fmt.Errorf("client: %s: %w", t.opt.Name, err)
	}
	dpc.Accountant = t.accountant
	if t.opt.AccountFile == "" && !t.warned {
		t.warned = true
		fmt.Fprintf(t.log, "client %s: the DP account is kept in memory only: a restarted client counts its epsilon from zero (kiln fed client --dp-account FILE keeps it)\n", t.opt.Name)
	}
	defer func() {
		// Every step taken counts, a failed fit's too; an account that
		// cannot be saved fails the fit, lest a restart count from less.
		t.accountant = dpc.Accountant
		if serr := t.saveAccount(); serr != nil {
			err = errors.Join(err, fmt.Errorf("client: %s: saving the DP account: %w", t.opt.Name, serr))
		}
	}()
	steps := max(1, int(math.Round(1/q)))
	nn.SetTraining(model, true)
	var b data.Batch
	var lossSum float64
	var correct, seen int
	for e := range cfg.Epochs {
		lossSum, correct, seen = 0, 0, 0
		for range steps {
			if err := ctx.Err(); err != nil {
				return 0, 0, fmt.Errorf("client: %s: DP epoch %d: %w", t.opt.Name, e+1, err)
			}
			if err := privacy.PoissonBatch(ds, q, rng, &b); err != nil {
				return 0, 0, err
			}
			l, k := dpc.TrainStep(&b)
			lossSum += float64(l) * float64(len(b.Y))
			correct += k
			seen += len(b.Y)
		}
	}
	if seen == 0 {
		return 0, 0, nil
	}
	return lossSum / float64(seen), float64(correct) / float64(seen), nil
}

// evaluate scores the parameters on the client's test data (its training
// data when it has none).
func (t *Trainer) evaluate(ctx context.Context, params []float32, cfg Config) (*fed.Reply, error) {
	d, what := t.opt.Test, "test data"
	if d == nil {
		d, what = t.opt.Train, "training data"
	}
	ds, err := t.match(d, cfg.Spec, what)
	if err != nil {
		return nil, err
	}
	model, err := t.load(cfg.Spec, params)
	if err != nil {
		return nil, err
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 256, Workers: t.opt.Workers})
	if err != nil {
		return nil, err
	}
	r, err := train.Evaluate(ctx, train.NewClassifier(model, model.ParamSet(), nil, nil), l, nil)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", t.opt.Name, err)
	}
	return &fed.Reply{NumExamples: ds.Len(), Metrics: map[string]float64{MetricLoss: r.Loss, MetricAccuracy: r.Accuracy}}, nil
}

// match checks that d fits the spec: the same example shape, and classes
// the model has (matched by name and renumbered as the model's).
func (t *Trainer) match(d data.Dataset, s Spec, what string) (data.Dataset, error) {
	if !slices.Equal(d.Shape(), s.Shape) {
		return nil, fmt.Errorf("client: %s: its %s gives examples of shape %v; the server's %s takes %v (resize the data, or pick a server with the same input size)",
			t.opt.Name, what, d.Shape(), s.Model, s.Shape)
	}
	m, err := source.MatchClasses(d, s.Classes, fmt.Sprintf("client %s: its %s", t.opt.Name, what))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return m, nil
}

// load builds the spec's model and loads params into it.
func (t *Trainer) load(s Spec, params []float32) (models.Model, error) {
	m, err := s.Build(0)
	if err != nil {
		return nil, err
	}
	if err := Unflatten(m, params); err != nil {
		return nil, err
	}
	return m, nil
}

// roundSeed mixes the run's seed, the round and the client's name into
// the seed of the client's draws that round.
func roundSeed(seed uint64, round int, name string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%s", seed, round, name)
	return h.Sum64()
}
