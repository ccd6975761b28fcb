package task

// This file builds the model of a run from its config and data, text
// models included: a text classifier or a language model is sized by its
// vocabulary, which images do not have. It leaves out the image models
// themselves (buildModel).

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
)

// NewModel builds a run's model: an image model for examples of shape
// [C, H, W]; or, for text data (enc not nil), a language model or a text
// classifier over enc's vocabulary, sized by cfg's --embed-dim, --hidden
// and --layers (zero: the model's defaults).
func NewModel(cfg run.Config, task, name string, shape []int, classes int, enc *text.Encoder, rng *rand.Rand) (models.Model, error) {
	isText := run.IsTextRun(task, name)
	switch {
	case isText && enc == nil:
		return nil, fmt.Errorf("%s reads text: --data must hold text (class folders of .txt files, or a \"label<TAB>text\" lines file; a text file for --task lm)", name)
	case !isText && enc != nil:
		return nil, fmt.Errorf("%s is an image model; text data train %s (or, with --task lm, %s)", name, strings.Join(models.TextNames(), " or "), models.CharLMName)
	case task == run.TaskLM:
		return models.NewCharLM(enc.Vocab.Len(), models.CharLMConfig{EmbedDim: cfg.EmbedDim, Hidden: cfg.Hidden, Layers: cfg.Layers, Dropout: lmDropout}, rng)
	case isText:
		s := models.TextShape{Vocab: enc.Vocab.Len(), Classes: classes}
		if cfg.EmbedDim == 0 && cfg.Hidden == 0 && cfg.Layers == 0 {
			return models.NewText(name, s, rng)
		}
		rc, ok := textClassifierConfig(name)
		if !ok {
			return nil, fmt.Errorf("%s cannot be resized; --embed-dim, --hidden and --layers apply to lstm-classifier and gru-classifier", name)
		}
		rc.EmbedDim, rc.Hidden, rc.Layers = cfg.EmbedDim, cfg.Hidden, cfg.Layers
		return models.NewRNNClassifier(s, rc, rng)
	}
	if cfg.Architecture != "" {
		return buildArchitecture(cfg.Architecture, name, shape, classes, rng)
	}
	return buildModel(task, name, shape, classes, rng)
}

// buildArchitecture builds an architecture file's model (run.Config's
// Architecture, read from the file named name) for shape and classes.
func buildArchitecture(arch, name string, shape []int, classes int, rng *rand.Rand) (models.Model, error) {
	st, err := models.FromJSON([]byte(arch), models.Shape{Channels: shape[0], Height: shape[1], Width: shape[2], Classes: classes}, rng)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return st, nil
}

// textClassifierConfig returns the zoo's configuration of a recurrent
// text classifier (models.NewText's), for resizing it.
func textClassifierConfig(name string) (models.RNNClassifierConfig, bool) {
	switch name {
	case "lstm-classifier":
		return models.RNNClassifierConfig{Bidirectional: true, Dropout: 0.3}, true
	case "gru-classifier":
		return models.RNNClassifierConfig{GRU: true, Bidirectional: true, Dropout: 0.3}, true
	}
	return models.RNNClassifierConfig{}, false
}

// buildModel builds the named model of a task for examples of shape
// [C, H, W] and the number of classes, initialised from rng.
func buildModel(task, name string, shape []int, classes int, rng *rand.Rand) (models.Model, error) {
	s := models.Shape{Channels: shape[0], Height: shape[1], Width: shape[2], Classes: classes}
	if task == run.TaskAutoencode {
		return models.NewAutoencoder(name, s, rng)
	}
	return models.New(name, s, rng)
}
