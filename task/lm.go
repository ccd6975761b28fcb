package task

// This file holds the language-model task: its training step
// (LanguageModel), what a language-model run writes when training ends
// (held-out bits per character and a sample), and sampling text from a
// trained run. It leaves out the data (lm_data.go), stateful evaluation
// across windows, and word-level models.

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/tensor"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// SampleFile is the text a language-model run generates at the end.
const SampleFile = "sample.txt"

// The sample written at the end of a language-model run.
const (
	runSampleLength      = 500
	runSampleTemperature = 0.8
)

// lmDropout is char-lm's dropout between stacked LSTM layers.
const lmDropout = 0.2

// LanguageModel trains a CharLM with the mean cross-entropy of its
// prediction at every step of each window. Batches hold windows of T+1
// token ids (LMWindows): the model reads the first T and is scored on the
// last T.
type LanguageModel struct {
	Model    *models.CharLM
	Params   *nn.ParamSet
	Loss     *nn.CrossEntropyLoss
	Opt      optim.Optimizer
	ClipNorm float64        // clip gradients to this global L2 norm; 0 disables
	Sync     train.GradSync // combines gradients over data-parallel ranks; nil for one process

	tape    *autograd.Tape
	x       tensor.Tensor
	in      []float32
	targets []int
}

var _ train.Learner = (*LanguageModel)(nil)

// NewLanguageModel returns a LanguageModel of m with optimizer opt.
func NewLanguageModel(m *models.CharLM, opt optim.Optimizer) *LanguageModel {
	return &LanguageModel{Model: m, Params: m.Params, Loss: nn.NewCrossEntropyLoss(), Opt: opt, tape: autograd.NewTape()}
}

// Module returns the language model.
func (l *LanguageModel) Module() nn.Module { return l.Model }

// Optimizer returns the optimizer.
func (l *LanguageModel) Optimizer() optim.Optimizer { return l.Opt }

// loss runs the model on a batch of windows and returns the mean
// cross-entropy (in nats) over every predicted character.
func (l *LanguageModel) loss(b *data.Batch) *autograd.Var {
	n, w := b.Shape[0], b.Shape[1]
	T := w - 1
	if cap(l.in) < n*T {
		l.in, l.targets = make([]float32, n*T), make([]int, n*T)
	}
	l.in, l.targets = l.in[:n*T], l.targets[:n*T]
	for i := range n {
		row := b.X[i*w : (i+1)*w]
		copy(l.in[i*T:(i+1)*T], row[:T])
		for t, id := range row[1:] {
			l.targets[i*T+t] = int(id)
		}
	}
	l.tape.Reset()
	l.x.Init(l.in, n, T)
	logits := l.Model.Forward(l.tape, l.tape.Const(&l.x))
	return l.Loss.Forward(l.tape, l.tape.Reshape(logits, n*T, l.Model.Vocab), l.targets)
}

// TrainStep trains on one batch of windows and returns the mean loss per
// character; correct is always 0 (a language model reports bits per
// character, not accuracy).
func (l *LanguageModel) TrainStep(b *data.Batch) (loss float32, correct int) {
	l.tape.SetGradEnabled(true)
	v := l.loss(b)
	train.UpdateShard(l.tape, l.Params, v, l.ClipNorm, l.Opt, l.Sync, b)
	return v.Item(), 0
}

// EvalBatch returns the batch's loss summed over windows (each window's
// mean per character, so that dividing by the windows gives the mean per
// character); correct is 0 and preds is left alone.
func (l *LanguageModel) EvalBatch(b *data.Batch, preds []int) (lossSum float64, correct int) {
	prev := l.tape.SetGradEnabled(false)
	defer l.tape.SetGradEnabled(prev)
	return float64(l.loss(b).Item()) * float64(b.Shape[0]), 0
}

// BitsPerChar converts a mean cross-entropy in nats per character to bits
// per character.
func BitsPerChar(nats float64) float64 { return nats / math.Ln2 }

// lmFigures formats a loss as bits per character and perplexity.
func lmFigures(nats float64) string {
	return fmt.Sprintf("%.3f bits/char, perplexity %.2f", BitsPerChar(nats), math.Exp(nats))
}

// finishLM evaluates the best model on the test tail (else the validation
// part, else the training text), writes a sample, and the report last, as
// the mark of a finished run.
// languageModel is a character-level language model: losses in nats and
// bits per character, no classes, and a text sample at the end.
type languageModel struct {
	lm  *models.CharLM
	enc *text.Encoder
}

func (languageModel) unit() string        { return "windows" }
func (languageModel) classesNote() string { return "" }

func (languageModel) epochLine(st train.EpochStats, cfg run.Config, val bool) string {
	line := fmt.Sprintf("Epoch [%d/%d], Loss: %.4f (%.3f bits/char)", st.Epoch, cfg.Epochs, st.TrainLoss, BitsPerChar(st.TrainLoss))
	if val {
		line += fmt.Sprintf(", Val loss: %.4f (%s)", st.ValLoss, lmFigures(st.ValLoss))
	}
	return line
}

func (languageModel) speed(st train.EpochStats, cfg run.Config) string {
	return fmt.Sprintf("%.0f chars/s", float64(st.Images*cfg.SeqLength())/max(st.Duration.Seconds(), 1e-9))
}

func (languageModel) accuracy() bool    { return false }
func (languageModel) lossLabel() string { return "cross-entropy loss (nats per character)" }

func (languageModel) scalars(val bool) func(*tfevents.Writer, train.EpochStats, time.Time) {
	return func(w *tfevents.Writer, st train.EpochStats, now time.Time) {
		w.Scalar("bits_per_char/train", st.Step, BitsPerChar(st.TrainLoss), now)
		if val {
			w.Scalar("bits_per_char/val", st.Step, BitsPerChar(st.ValLoss), now)
		}
	}
}

// finish evaluates the best model, samples a text and writes the report.
func (k languageModel) finish(ctx context.Context, s *session, sum *Summary) error {
	which, set, what, r, err := s.evaluateBest(ctx, sum)
	if err != nil || !s.writes() {
		return err
	}
	chars := set.Len() * s.cfg.SeqLength()
	fmt.Fprintf(s.log, "Loss of the %s model on the %s text: %.4f nats/char, %s (%d characters)\n", which, what, r.Loss, lmFigures(r.Loss), chars)
	sample, err := GenerateText(k.lm, k.enc, "", runSampleLength, runSampleTemperature, s.cfg.Seed)
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(s.dir, SampleFile), func(w io.Writer) error {
		_, err := io.WriteString(w, sample+"\n")
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(s.log, "Sample (temperature %g, seed %d; more with: kiln sample %s):\n%s\n", runSampleTemperature, s.cfg.Seed, s.dir, sample)
	if what == "test" {
		if err := s.testScalars([]string{"loss/test", "bits_per_char/test"}, r.Loss, BitsPerChar(r.Loss)); err != nil {
			return err
		}
	}
	rep := fmt.Sprintf("%s text: loss %.6f nats/char, %.4f bits/char, perplexity %.4f, %d characters in %d windows of %d, %s model\n\nsample (temperature %g, seed %d):\n%s\n",
		what, r.Loss, BitsPerChar(r.Loss), math.Exp(r.Loss), chars, set.Len(), s.cfg.SeqLength(), which, runSampleTemperature, s.cfg.Seed, sample)
	return writeReport(s.dir, rep)
}

// GenerateText continues prime by n characters with m, drawing from the
// softmax at temperature (greedy at 0) with a generator seeded by seed,
// and returns prime and its continuation. Characters unknown to the
// vocabulary enter as the unknown token. An empty prime starts the model
// on a line break (or, when the text had none, its most frequent
// character), which the result leaves out.
func GenerateText(m *models.CharLM, enc *text.Encoder, prime string, n int, temperature float64, seed uint64) (string, error) {
	if enc.Tokenizer.Level != text.Char {
		return "", fmt.Errorf("task: sampling needs a character-level model, not %s", enc.Tokenizer)
	}
	implicit := prime == ""
	if implicit {
		prime = "\n"
		if enc.Vocab.ID(prime) == text.Unk {
			prime = enc.Vocab.Token(2)
		}
	}
	toks := enc.Tokenizer.Tokens(nil, prime)
	ids := make([]int, len(toks))
	for i, t := range toks {
		ids[i] = enc.Vocab.ID(t)
	}
	out, err := m.Generate(ids, n, temperature, rand.New(rand.NewPCG(seed, 0x5a3b1e)), text.Pad, text.Unk)
	if err != nil {
		return "", fmt.Errorf("task: %w", err)
	}
	var b strings.Builder
	if !implicit {
		b.WriteString(prime)
	}
	for _, id := range out {
		b.WriteString(enc.Vocab.Token(id))
	}
	return b.String(), nil
}

// evaluateBest loads the best checkpoint and evaluates it on the test set,
// else the validation set, else the training set, recording a test result
// in sum. It returns which checkpoint was loaded, the set, its name and the
// result. The tasks without a confusion matrix (autoencode, lm) share it.
func (s *session) evaluateBest(ctx context.Context, sum *Summary) (which string, set data.Dataset, what string, r train.Result, err error) {
	if which, err = s.loadBest(); err != nil {
		return
	}
	if s.rep != nil {
		if err = s.broadcastModel(); err != nil { // rank 0 read the best model
			return
		}
	}
	set, what = s.ds.Test, "test"
	if set == nil {
		set, what = s.ds.Val, "validation"
	}
	if set == nil {
		set, what = s.ds.Train, "training"
	}
	l, err := s.evalLoader(set)
	if err != nil {
		return
	}
	if r, err = train.EvaluateOn(ctx, s.learner, l, nil, s.replicaSums()); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted during the final evaluation; training is finished and saved; finish with: kiln train --resume %s: %w", s.dir, err)
		}
		return
	}
	if what == "test" {
		sum.Test = &r
	}
	return
}
