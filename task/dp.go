package task

// This file holds differentially private training (kiln train --dp):
// DP-SGD's step (privacy.DPClassifier: per-example gradients clipped to
// --max-grad-norm, Gaussian noise, the optimizer) on Poisson-sampled
// batches, the noise multiplier that --target-epsilon asks for, and the
// epsilon spent, after every epoch, in the epoch line, metrics.csv,
// TensorBoard and the final report. It leaves out DP-SGD itself (package
// privacy) and data-parallel DP-SGD, which is refused.
//
// The loop still walks an epoch of ceil(N/B) batches, as Opacus's
// DPDataLoader does, but over a dataset of placeholders (ticks): each step
// draws its own Poisson batch, with sample rate 1/ceil(N/B), from a
// generator seeded by the run's seed and the step's number, and its noise
// from another seeded the same way. A resumed run therefore needs nothing
// saved beyond the loop's position: the accountant's history is that many
// steps with the run's noise multiplier and sample rate.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/privacy"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// dpRun is a DP run's privacy settings and account.
type dpRun struct {
	sigma, q, delta, maxNorm float64
	expected, perEpoch       int
	eps                      map[int]float64 // epsilon after so many steps
}

// epsilon returns the epsilon spent by steps steps.
func (d *dpRun) epsilon(steps int) float64 {
	if e, ok := d.eps[steps]; ok {
		return e
	}
	e, _, err := privacy.Epsilon(d.q, d.sigma, steps, d.delta)
	if err != nil || steps == 0 {
		e = 0
	}
	d.eps[steps] = e
	return e
}

// useDP makes the session's training differentially private: a DP-SGD
// learner over the model, Poisson batches, and the task's figures with
// the epsilon spent. It resolves --target-epsilon into the noise
// multiplier, which config.json records.
func (s *session) useDP() error {
	cfg := &s.cfg
	if s.rep != nil {
		return fmt.Errorf("--dp: data-parallel DP-SGD is not supported (each rank would sample and noise its own batch); train with --dp in one process")
	}
	if cfg.OnDevice() {
		return fmt.Errorf("--dp with --device %s: DP-SGD's per-example gradients run on the CPU engine only; leave out --device", cfg.Device)
	}
	n := s.ds.Train.Len()
	ticks, err := data.NewLoader(ticks{n: n, rank: len(s.ds.Shape)}, data.LoaderOptions{BatchSize: cfg.BatchSize})
	if err != nil {
		return err
	}
	d := &dpRun{perEpoch: ticks.NumBatches(), delta: cfg.Delta, maxNorm: cfg.MaxGradNorm, eps: map[int]float64{}}
	d.q = 1 / float64(d.perEpoch)
	d.expected = max(int(float64(n)*d.q), 1)
	d.sigma = cfg.NoiseMultiplier
	if cfg.TargetEpsilon > 0 {
		sigma, err := privacy.NoiseMultiplier(cfg.TargetEpsilon, cfg.Delta, d.q, cfg.Epochs*d.perEpoch, 0.01)
		if err != nil {
			return fmt.Errorf("--target-epsilon %g: %w", cfg.TargetEpsilon, err)
		}
		if d.sigma != 0 && d.sigma != sigma {
			return fmt.Errorf("--target-epsilon %g: the noise multiplier for it over %d epochs is %g, not the config's %g (a run with a target epsilon cannot train longer or change it)",
				cfg.TargetEpsilon, cfg.Epochs, sigma, d.sigma)
		}
		d.sigma, cfg.NoiseMultiplier = sigma, sigma
	}
	ps := s.model.ParamSet()
	noise := rand.NewPCG(0, 0)
	clf, err := privacy.NewDPClassifier(s.model, ps, nil, s.optim,
		privacy.DPConfig{MaxGradNorm: d.maxNorm, NoiseMultiplier: d.sigma, SampleRate: d.q, ExpectedBatch: d.expected}, rand.New(noise))
	if err != nil {
		return fmt.Errorf("--dp: --model %s: %w", cfg.Model, err)
	}
	l := &dpLearner{DPClassifier: clf, d: d, ds: s.ds.Train, seed: cfg.Seed, steps: func() int { return s.loop.Pos.Step }, noise: noise, pcg: rand.NewPCG(0, 0)}
	l.rng = rand.New(l.pcg)
	s.learner, s.task, s.trainL = l, dpKind{s.task, d}, ticks
	how := "per-sample gradients from one batched backward pass"
	if ok, why := clf.Vectorised(); !ok {
		how = fmt.Sprintf("per-sample gradients by a backward pass per example (%v)", why)
	}
	fmt.Fprintf(s.log, "kiln: DP-SGD: noise multiplier %.4g, max grad norm %g, Poisson batches of expected size %d (sample rate %.4g), %d steps an epoch, delta %g; %s\n",
		d.sigma, d.maxNorm, d.expected, d.q, d.perEpoch, d.delta, how)
	return nil
}

// ticks is a dataset of n placeholders of rank dimensions: the loop's
// epochs of a DP run, whose steps draw their own Poisson batches.
type ticks struct{ n, rank int }

func (t ticks) Len() int { return t.n }
func (t ticks) Shape() []int {
	s := make([]int, t.rank)
	for i := range s {
		s[i] = 1
	}
	return s
}
func (ticks) Classes() []string { return nil }
func (ticks) Get(_ int, x []float32, _ *rand.Rand) (int, error) {
	clear(x)
	return 0, nil
}

// dpLearner is DP-SGD's step on Poisson batches.
type dpLearner struct {
	*privacy.DPClassifier
	d     *dpRun
	ds    data.Dataset
	seed  uint64
	steps func() int // the optimizer steps done so far
	pcg   *rand.PCG  // seeds rng, which draws one step's batch and its augmentation
	rng   *rand.Rand
	noise *rand.PCG // the classifier's noise generator's source
	b     data.Batch
	err   error // the first batch that could not be read
}

// Streams of the generators, mixed with the seed and the step.
const (
	dpSampleStream = 0x64702d73616d706c // "dp-sampl"
	dpNoiseStream  = 0x64702d6e6f697365 // "dp-noise"
)

// TrainStep ignores the loop's placeholder batch b: it draws step k's
// Poisson batch, takes one DP-SGD step on it, and puts it in b, so that
// the loop counts the examples trained on. A batch that cannot be read
// leaves the model as it was; the step's callback (dpCheck) reports it.
func (l *dpLearner) TrainStep(b *data.Batch) (float32, int) {
	k := l.steps()
	if l.Accountant.Steps() != k { // a resumed run
		l.Accountant = privacy.Accountant{}
		l.Accountant.Record(l.d.sigma, l.d.q, k)
	}
	l.pcg.Seed(l.seed^dpSampleStream, uint64(k))
	l.noise.Seed(l.seed^dpNoiseStream, uint64(k))
	if err := privacy.PoissonBatch(l.ds, l.d.q, l.rng, &l.b); err != nil {
		if l.err == nil {
			l.err = fmt.Errorf("--dp: step %d: %w", k+1, err)
		}
		b.X, b.Y, b.Indices = b.X[:0], b.Y[:0], b.Indices[:0]
		return 0, 0
	}
	loss, correct := l.DPClassifier.TrainStep(&l.b)
	b.X, b.Y, b.Indices, b.Shape, b.Global = l.b.X, l.b.Y, l.b.Indices, l.b.Shape, len(l.b.Y)
	return loss, correct
}

// dpCheck returns the callback that stops the loop when a step could not
// read its batch.
func dpCheck(learner train.Learner) train.Callback {
	l, ok := learner.(*dpLearner)
	if !ok {
		return train.Base{}
	}
	return train.Funcs{Step: func(*train.Loop, train.StepInfo) error { return l.err }}
}

// dpKind adds the privacy spent to a task's figures and report.
type dpKind struct {
	kind
	d *dpRun
}

func (k dpKind) epochLine(st train.EpochStats, cfg run.Config, val bool) string {
	return fmt.Sprintf("%s, Epsilon: %.3f (delta %g)", k.kind.epochLine(st, cfg, val), k.d.epsilon(st.Step), k.d.delta)
}

func (k dpKind) scalars(val bool) func(*tfevents.Writer, train.EpochStats, time.Time) {
	base := k.kind.scalars(val)
	return func(w *tfevents.Writer, st train.EpochStats, now time.Time) {
		if base != nil {
			base(w, st, now)
		}
		w.Scalar("privacy/epsilon", st.Step, k.d.epsilon(st.Step), now)
	}
}

// columns are the metrics files' epsilon column.
func (k dpKind) columns() []run.Column {
	return []run.Column{{Name: "epsilon", Value: func(st train.EpochStats) float64 { return k.d.epsilon(st.Step) }}}
}

// summary is the privacy guarantee after steps steps, in words.
func (k dpKind) summary(steps int) string {
	d := k.d
	return fmt.Sprintf("privacy: (%.4f, %g)-DP after %d DP-SGD steps (%.4g epochs): noise multiplier %.4g, max grad norm %g, sample rate %.4g (expected batch %d), RDP accountant over Opacus's orders",
		d.epsilon(steps), d.delta, steps, float64(steps)/float64(d.perEpoch), d.sigma, d.maxNorm, d.q, d.expected)
}

// finish is the task's, followed by the privacy spent, in the log and at
// the end of the test report.
func (k dpKind) finish(ctx context.Context, s *session, sum *Summary) error {
	if err := k.kind.finish(ctx, s, sum); err != nil {
		return err
	}
	if !s.writes() {
		return nil
	}
	line := k.summary(s.loop.Pos.Step)
	fmt.Fprintf(s.log, "kiln: %s\n", line)
	path := filepath.Join(s.dir, run.ReportFile)
	rep, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("task: %w", err)
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s\n%s\n", rep, line)
		return err
	})
}

// extraColumns returns the task's own metrics columns, if it has any.
func extraColumns(k kind) []run.Column {
	if c, ok := k.(interface{ columns() []run.Column }); ok {
		return c.columns()
	}
	return nil
}
