package main

// This file holds what "kiln train" and "kiln predict" do for text: the
// text flags, the default model for text data and language models, and the
// texts predict classifies. It leaves out the text itself (package train)
// and sampling (sample.go).

import (
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
)

// textDefaults picks the model when --model was not given: char-lm for
// --task lm, lstm-classifier when --data holds text. The image default
// means "not chosen" there.
func textDefaults(cfg *run.Config, set map[string]bool) {
	if set["model"] || cfg.Model != run.DefaultConfig().Model {
		return
	}
	switch {
	case cfg.Task == run.TaskLM:
		cfg.Model = models.CharLMName
	case cfg.Task == "" || cfg.Task == run.TaskClassify:
		if cfg.Data == "" {
			return
		}
		if src, err := source.DetectSource(cfg.Data); err == nil && (src.Format == source.FormatTextFolder || src.Format == source.FormatTextLines) {
			cfg.Model = "lstm-classifier"
		}
	}
}

// applyTextFlag copies the setting behind one text flag from src to dst.
func applyTextFlag(dst, src *run.Config, name string) {
	switch name {
	case "tokenize":
		dst.Tokenize = src.Tokenize
	case "lowercase":
		dst.Lowercase = src.Lowercase
	case "max-len":
		dst.MaxLen = src.MaxLen
	case "min-freq":
		dst.MinFreq = src.MinFreq
	case "test-split":
		dst.TestSplit = src.TestSplit
	case "seq-len":
		dst.SeqLen = src.SeqLen
	case "embed-dim":
		dst.EmbedDim = src.EmbedDim
	case "hidden":
		dst.Hidden = src.Hidden
	case "layers":
		dst.Layers = src.Layers
	}
}

// stringList is a flag that may be repeated, keeping every value.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

// Set implements flag.Value.
func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// predictItem is one input of predict: a text given with --text, or a file.
type predictItem struct {
	label string  // what the output names it by
	text  *string // nil for a file
	file  string
}

func (it predictItem) textValue() string {
	if it.text == nil {
		return ""
	}
	return *it.text
}

// predictItems lists --text values first, then files, as predict prints
// them. A text is named by itself, quoted and shortened to 60 characters.
func predictItems(texts, files []string) []predictItem {
	var out []predictItem
	for i := range texts {
		label := texts[i]
		if r := []rune(label); len(r) > 60 {
			label = string(r[:57]) + "..."
		}
		out = append(out, predictItem{label: strconv.Quote(label), text: &texts[i]})
	}
	for _, f := range files {
		out = append(out, predictItem{label: f, file: f})
	}
	return out
}
