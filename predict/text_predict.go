package predict

// This file holds inference for text runs: classifying strings and text
// files, the data a text classifier or a language model is evaluated on,
// and a language model's held-out loss. It leaves out batching many texts
// into one forward pass; predict handles the handful a person gives.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
)

// IsText reports whether the run reads text: a text classifier, which
// PredictText serves, or a language model, which Sample serves.
func (t *Trained) IsText() bool { return t.enc != nil }

// Encoder returns a text run's encoder, or nil for other runs.
func (t *Trained) Encoder() *text.Encoder { return t.enc }

// PredictText returns the probability of each class for one text, encoded
// as in training (tokenised, numbered by the run's vocabulary, truncated
// to its length).
func (t *Trained) PredictText(s string) ([]float64, error) {
	if t.enc == nil {
		return nil, fmt.Errorf("predict: %s is an image model; predict images with it", t.Info.Model)
	}
	c, err := t.classifier()
	if err != nil {
		return nil, err
	}
	t.enc.Encode(s, t.x)
	logits := c.Logits(&data.Batch{X: t.x, Shape: []int{1, len(t.x)}})
	return softmax64(logits), nil
}

// predictTextFile classifies the text in a file, read as text folders are:
// UTF-8, less surrounding white space and a byte order mark.
func (t *Trained) predictTextFile(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\uFEFF")))
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("predict: %s: not UTF-8 text (bad byte at offset %d)", path, source.InvalidUTF8(b))
	}
	return t.PredictText(string(b))
}

// softmax64 returns the softmax of logits in float64.
func softmax64(logits []float32) []float64 {
	hi := math.Inf(-1)
	for _, v := range logits {
		hi = math.Max(hi, float64(v))
	}
	probs := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp(float64(v) - hi)
		sum += probs[i]
	}
	for i := range probs {
		probs[i] /= sum
	}
	return probs
}

// textEvalSet opens the texts a text classifier is evaluated on, encoded
// with the run's encoder: with dataDir "" the run's own test set (its
// test/ folder, or the texts it held out with --test-split); else
// dataDir's test/ folder, or its class folders, or the whole lines file.
func (t *Trained) textEvalSet(dataDir string, log io.Writer) (data.Dataset, string, error) {
	if dataDir == "" {
		src, err := source.DetectSource(t.Config.Data)
		if err != nil {
			return nil, "", err
		}
		ds, err := source.LoadText(t.Config, src, t.enc, io.Discard)
		if err != nil {
			return nil, "", err
		}
		if ds.Test == nil {
			return nil, "", fmt.Errorf("predict: the run's data %s give no test set (test_split 0, or a run that kept out of it); name one with --data", t.Config.Data)
		}
		what := "the test texts held out of " + t.Config.Data
		if src.Split {
			what = filepath.Join(src.Root, "test")
		}
		return ds.Test, what, nil
	}
	src, err := source.DetectSource(dataDir)
	if err != nil {
		return nil, "", err
	}
	if !src.IsText() {
		return nil, "", fmt.Errorf("--data %s: %s, but %s is a text model", dataDir, src, t.Info.Model)
	}
	what := src.Root
	c, err := source.OpenCorpus(src, false, t.enc.Tokenizer, log)
	if err != nil {
		return nil, "", err
	}
	if c == nil {
		c, err = source.OpenCorpus(src, true, t.enc.Tokenizer, log)
		if err != nil {
			return nil, "", err
		}
	} else {
		what = filepath.Join(src.Root, "test")
	}
	ds, err := text.NewDataset(c, t.enc)
	if err != nil {
		return nil, "", err
	}
	return ds, what, nil
}

// evaluateLM returns a language model's mean loss per character on the
// run's test tail (dataPath ""), or on the text of dataPath.
func (t *Trained) evaluateLM(ctx context.Context, dataPath string, workers int) (train.Result, string, error) {
	var set data.Dataset
	what := dataPath
	if dataPath == "" {
		ds, err := source.LoadLM(t.Config, t.enc, io.Discard)
		if err != nil {
			return train.Result{}, "", err
		}
		if set, what = ds.Test, "the test tail of "+t.Config.Data; set == nil {
			return train.Result{}, "", fmt.Errorf("predict: the run's text %s has no test tail (test_split 0); name a text with --data", t.Config.Data)
		}
	} else {
		cfg := t.Config
		cfg.Data, cfg.ValSplit, cfg.TestSplit, cfg.NoTest = dataPath, 0, 0, false
		ds, err := source.LoadLM(cfg, t.enc, io.Discard)
		if err != nil {
			return train.Result{}, "", err
		}
		set = ds.Train
		set.(*source.LMWindows).SetJitter(false)
	}
	l, err := data.NewLoader(set, data.LoaderOptions{BatchSize: 64, Workers: workers})
	if err != nil {
		return train.Result{}, "", err
	}
	r, err := train.Evaluate(ctx, t.lml, l, nil)
	return r, what, err
}

// shapeSize returns the number of values of one example of shape s.
func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
