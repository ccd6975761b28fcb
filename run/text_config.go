package run

// This file checks the settings of text runs: text classification
// (--tokenize, --max-len, --min-freq, --test-split) and language models
// (--task lm, --seq-len), and the sizes of text models (--embed-dim,
// --hidden, --layers). It leaves out the settings every run shares
// (config.go).

import (
	"fmt"

	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/models"
)

// validateText reports the first text setting that cannot work, naming
// its flag.
func (c *Config) validateText() error {
	tok, err := c.Tokenizer()
	switch {
	case err != nil:
		return err
	case c.MaxLen < 0 || c.MaxLen > text.MaxSeqLen:
		return fmt.Errorf("--max-len %d: want 0 (from the data) or 1 to %d tokens", c.MaxLen, text.MaxSeqLen)
	case c.MinFreq < 0:
		return fmt.Errorf("--min-freq %d: want 0 or more", c.MinFreq)
	case c.SeqLen < 0 || c.SeqLen > text.MaxSeqLen:
		return fmt.Errorf("--seq-len %d: want 0 (default %d) or 1 to %d characters", c.SeqLen, DefaultSeqLen, text.MaxSeqLen)
	case !(c.TestSplit >= 0 && c.TestSplit < 1):
		return fmt.Errorf("--test-split %g: want a fraction in [0, 1)", c.TestSplit)
	case c.EmbedDim < 0 || c.Hidden < 0 || c.Layers < 0:
		return fmt.Errorf("--embed-dim %d, --hidden %d, --layers %d: want 0 (the model's default) or more", c.EmbedDim, c.Hidden, c.Layers)
	}
	sized := c.EmbedDim != 0 || c.Hidden != 0 || c.Layers != 0
	if c.TaskName() != TaskLM {
		if c.Model == models.CharLMName {
			return fmt.Errorf("--model %s is a language model: train it with --task lm", c.Model)
		}
		if sized && !models.IsText(c.Model) {
			return fmt.Errorf("--embed-dim, --hidden and --layers size text models (%v, %s), not %s", models.TextNames(), models.CharLMName, c.Model)
		}
		return nil
	}
	switch {
	case c.Model != models.CharLMName:
		return fmt.Errorf("--model %s: --task lm trains %s", c.Model, models.CharLMName)
	case tok.Level != text.Char:
		return fmt.Errorf("--tokenize %s: %s is a character-level model", c.Tokenize, models.CharLMName)
	case c.Folds != 0:
		return fmt.Errorf("--folds: cross-validation deals examples out by class; a language model holds out the end of its text (--val-split, --test-split)")
	case !(c.ValSplit+c.TestSplit < 1):
		return fmt.Errorf("--val-split %g and --test-split %g leave no training text", c.ValSplit, c.TestSplit)
	}
	return nil
}

// The tasks a run can train.
const (
	TaskClassify   = "classify"   // class labels, cross-entropy
	TaskAutoencode = "autoencode" // reconstruct the input; labels unused
)

// TaskLM trains a character-level language model (models.CharLM) to
// predict each next character of a text.
const TaskLM = "lm"

// DefaultSeqLen is a language model's window when --seq-len is 0.
const DefaultSeqLen = 100

// SeqLength returns the run's window length.
func (c *Config) SeqLength() int {
	if c.SeqLen == 0 {
		return DefaultSeqLen
	}
	return c.SeqLen
}

// Tokenizer returns the run's tokenizer: --tokenize (char by default) and
// --lowercase.
func (c *Config) Tokenizer() (text.Tokenizer, error) {
	level := c.Tokenize
	if level == "" {
		level = string(text.Char)
	}
	l, err := text.ParseLevel(level)
	if err != nil {
		return text.Tokenizer{}, fmt.Errorf("--tokenize %q: want char or word", c.Tokenize)
	}
	return text.Tokenizer{Level: l, Lower: c.Lowercase}, nil
}

// IsTextRun reports whether a run's model reads token ids: a text
// classifier or a language model.
func IsTextRun(task, model string) bool {
	return task == TaskLM || models.IsText(model)
}
