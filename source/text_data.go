package source

// This file loads text data for classification: a text folder or a lines
// file, split into training, validation and test sets, numbered by a
// vocabulary built from the training set alone. It leaves out recognising
// the formats (text_formats.go), language-model data (lm_data.go) and
// keeping the tail of texts longer than --max-len (the head is kept).

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/run"
)

// EncoderFile is the file of a text run's directory that holds its
// tokenizer, vocabulary and sequence length (text.Encoder's JSON), so that
// eval, predict and sample encode text exactly as training did.
const EncoderFile = "encoder.json"

// Streams of the generators that split text data, apart from ValSplit's.
const (
	testSplitSeed = 0x7e57
	textFoldSeed  = 0xf01d
)

// maxLenQuantile is the share of training texts that the default
// --max-len keeps whole.
const maxLenQuantile = 0.99

// LoadText opens a text source for classification. Data without a test
// split (a lines file, a text folder without test/) hold out a stratified
// cfg.TestSplit as the test set, drawn with cfg.Seed, before the validation
// set (cfg.ValSplit, or fold cfg.Fold of cfg.Folds) is drawn from the rest;
// the test texts stay out of training with cfg.NoTest too, so that every
// run on the data trains on the same texts. The vocabulary and the default
// MaxLen come from the training set alone; with enc (a run's saved
// encoder) they come from enc instead.
func LoadText(cfg run.Config, src *Source, enc *text.Encoder, log io.Writer) (*Datasets, error) {
	if log == nil {
		log = io.Discard
	}
	tok, err := cfg.Tokenizer()
	if err != nil {
		return nil, err
	}
	if enc != nil && enc.Tokenizer != tok {
		return nil, fmt.Errorf("source: the run's encoder tokenizes %s, its config %s", enc.Tokenizer, tok)
	}
	corpus, err := OpenCorpus(src, true, tok, log)
	if err != nil {
		return nil, err
	}
	testCorpus, err := OpenCorpus(src, false, tok, log)
	if err != nil {
		return nil, err
	}
	idx := make([]int, corpus.Len())
	for i := range idx {
		idx[i] = i
	}
	var testIdx []int
	if testCorpus == nil && cfg.TestSplit > 0 {
		parts, err := data.Split(corpus.Labels, []float64{1 - cfg.TestSplit, cfg.TestSplit}, rand.New(rand.NewPCG(cfg.Seed, testSplitSeed)), true)
		if err != nil {
			return nil, fmt.Errorf("--test-split %g: %w", cfg.TestSplit, err)
		}
		idx, testIdx = parts[0], parts[1]
	}
	trainIdx, valIdx, err := splitTraining(cfg, corpus.Labels, idx)
	if err != nil {
		return nil, err
	}
	if enc == nil {
		if enc, err = buildEncoder(cfg, corpus, trainIdx, tok); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "text: vocabulary of %d tokens: %s, %s and the %s tokens of the %d training texts seen %s; max length %d tokens\n",
			enc.Vocab.Len(), text.PadToken, text.UnkToken, tok, len(trainIdx), times(cfg.MinFreq), enc.MaxLen)
	}
	all, err := text.NewDataset(corpus, enc)
	if err != nil {
		return nil, err
	}
	ds := &Datasets{Classes: corpus.Classes, Shape: all.Shape(), Source: src.String(), Encoder: enc}
	if ds.Train, err = data.NewSubset(all, trainIdx); err != nil {
		return nil, err
	}
	if len(valIdx) > 0 {
		if ds.Val, err = data.NewSubset(all, valIdx); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.NoTest:
	case testCorpus != nil:
		test, err := text.NewDataset(testCorpus, enc)
		if err != nil {
			return nil, err
		}
		if ds.Test, err = MatchClasses(test, ds.Classes, filepath.Join(src.Root, "test")); err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
	case len(testIdx) > 0:
		if ds.Test, err = data.NewSubset(all, testIdx); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// OpenCorpus reads the training split (train true) or the test split of
// a text source: a text folder's train/ or test/ folder, or the folder
// itself, or the whole lines file. It returns nil when there is no such
// split. A test folder may lack some classes.
func OpenCorpus(src *Source, train bool, tok text.Tokenizer, log io.Writer) (*text.Corpus, error) {
	if src.Format == FormatTextLines {
		if !train {
			return nil, nil
		}
		c, rep, err := text.ReadLines(src.Root, text.LinesOptions{Tokenizer: tok})
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(log, rep)
		return c, nil
	}
	dir := src.Root
	if src.Split {
		dir = filepath.Join(src.Root, "test")
		if train {
			dir = filepath.Join(src.Root, "train")
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, nil
		}
	} else if !train {
		return nil, nil
	}
	c, rep, err := text.OpenFolder(dir, text.FolderOptions{Tokenizer: tok, AllowEmpty: !train})
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(log, rep)
	return c, nil
}

// splitTraining draws the validation set from the corpus texts idx (whose
// labels are labels[idx[i]]): fold cfg.Fold of a stratified cfg.Folds-fold
// split, or a stratified cfg.ValSplit, or nothing. It returns corpus
// indices.
func splitTraining(cfg run.Config, labels, idx []int) (train, val []int, err error) {
	sub := make([]int, len(idx))
	for i, j := range idx {
		sub[i] = labels[j]
	}
	pick := func(pos []int) []int {
		out := make([]int, len(pos))
		for i, p := range pos {
			out[i] = idx[p]
		}
		return out
	}
	switch {
	case cfg.Folds > 0:
		folds, err := data.StratifiedKFold(sub, cfg.Folds, rand.New(rand.NewPCG(cfg.Seed, textFoldSeed)))
		if err != nil {
			return nil, nil, fmt.Errorf("--folds %d: %w", cfg.Folds, err)
		}
		f := folds[cfg.Fold-1]
		return pick(f.Train), pick(f.Val), nil
	case cfg.ValSplit > 0:
		parts, err := data.Split(sub, []float64{1 - cfg.ValSplit, cfg.ValSplit}, rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), true)
		if err != nil {
			return nil, nil, fmt.Errorf("--val-split %g: %w", cfg.ValSplit, err)
		}
		return pick(parts[0]), pick(parts[1]), nil
	}
	return idx, nil, nil
}

// buildEncoder makes the run's encoder from the training texts: the
// vocabulary of tokens seen at least cfg.MinFreq times, and cfg.MaxLen or,
// when 0, the length that 99% of the training texts fit in.
func buildEncoder(cfg run.Config, c *text.Corpus, trainIdx []int, tok text.Tokenizer) (*text.Encoder, error) {
	if len(trainIdx) == 0 {
		return nil, fmt.Errorf("--data %s: no training texts are left after the test and validation splits", cfg.Data)
	}
	v, err := text.BuildVocab(c, trainIdx, text.VocabOptions{MinFreq: cfg.MinFreq})
	if err != nil {
		return nil, fmt.Errorf("--min-freq %d: %w", cfg.MinFreq, err)
	}
	if v.Len() < 3 {
		return nil, fmt.Errorf("--min-freq %d: no token of the training texts is that frequent; lower it", cfg.MinFreq)
	}
	maxLen := cfg.MaxLen
	if maxLen == 0 {
		sub := &text.Corpus{Docs: make([][]string, len(trainIdx))}
		for i, j := range trainIdx {
			sub.Docs[i] = c.Docs[j]
		}
		maxLen = max(sub.LengthQuantile(maxLenQuantile), 1)
	}
	return &text.Encoder{Tokenizer: tok, Vocab: v, MaxLen: maxLen}, nil
}

// ReadEncoder loads a run's encoder.json.
func ReadEncoder(dir string) (*text.Encoder, error) {
	enc, err := text.LoadEncoder(filepath.Join(dir, EncoderFile))
	if err != nil {
		return nil, fmt.Errorf("source: %s is a text run: %w", dir, err)
	}
	return enc, nil
}

// SameEncoder checks that a resumed text run's data give the encoder the
// run was trained with: the same tokens would otherwise get other ids.
func SameEncoder(dir string, ds *Datasets) error {
	if ds.Encoder == nil {
		return nil
	}
	saved, err := ReadEncoder(dir)
	if err != nil {
		return err
	}
	a, err := saved.MarshalJSON()
	if err != nil {
		return err
	}
	b, err := ds.Encoder.MarshalJSON()
	if err != nil {
		return err
	}
	if string(a) != string(b) {
		return fmt.Errorf("the data give another vocabulary or length than the run's %s (%d tokens, max length %d; now %d tokens, max length %d)",
			EncoderFile, saved.Vocab.Len(), saved.MaxLen, ds.Encoder.Vocab.Len(), ds.Encoder.MaxLen)
	}
	return nil
}

// times says how often a token must be seen to be in a vocabulary.
func times(minFreq int) string {
	if minFreq <= 1 {
		return "at least once"
	}
	return fmt.Sprintf("at least %d times", minFreq)
}
