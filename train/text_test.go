package train

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
)

// wordClasses are made-up languages with their own letters, so that a
// small recurrent classifier tells them apart within an epoch or two.
var wordClasses = map[string]string{"ab": "abn", "xyz": "xyzm", "q": "qom"}

// writeWordLines writes n "class<TAB>word" lines of the made-up languages.
func writeWordLines(t testing.TB, path string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	names := []string{"ab", "q", "xyz"}
	var b strings.Builder
	for i := range n {
		c := names[i%len(names)]
		letters := wordClasses[c]
		w := make([]byte, 3+rng.IntN(6))
		for j := range w {
			w[j] = letters[rng.IntN(len(letters))]
		}
		fmt.Fprintf(&b, "%s\t%s\n", c, w)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTextTree writes the made-up words as a text folder, one word per
// file, under dir/<class>/.
func writeTextTree(t testing.TB, dir string, n int, seed uint64) {
	t.Helper()
	lines := filepath.Join(t.TempDir(), "w.tsv")
	writeWordLines(t, lines, n, seed)
	c, _, err := text.ReadLines(lines, text.LinesOptions{Tokenizer: text.Tokenizer{Level: text.Char}})
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range c.Docs {
		sub := filepath.Join(dir, c.Classes[c.Labels[i]])
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%03d.txt", i)), []byte(strings.Join(doc, "")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDetectTextSources(t *testing.T) {
	dir := t.TempDir()
	flat := filepath.Join(dir, "flat")
	writeTextTree(t, flat, 12, 1)
	split := filepath.Join(dir, "split")
	writeTextTree(t, filepath.Join(split, "train"), 12, 2)
	writeTextTree(t, filepath.Join(split, "test"), 6, 3)
	lines := filepath.Join(dir, "w.tsv")
	writeWordLines(t, lines, 5, 4)
	plain := filepath.Join(dir, "book.txt")
	os.WriteFile(plain, []byte("\n\nIt was a dark and stormy night.\n"), 0o644)
	for _, tc := range []struct {
		path   string
		format Format
		split  bool
		err    string
	}{
		{flat, FormatTextFolder, false, ""},
		{split, FormatTextFolder, true, ""},
		{lines, FormatTextLines, false, ""},
		{plain, "", false, "not a lines file"},
		{filepath.Join(dir, "missing"), "", false, "not a folder"},
	} {
		s, err := DetectSource(tc.path)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error saying %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || s.Format != tc.format || s.Split != tc.split {
			t.Errorf("%s: %+v, %v; want format %s, split %v", tc.path, s, err, tc.format, tc.split)
			continue
		}
		if _, _, err := s.Open(true, OpenOptions{}); err == nil {
			t.Errorf("%s: Source.Open opened texts as images", tc.path)
		}
	}
}

// TestLoadTextSplits checks that the test, validation and training texts
// are disjoint and cover the data, and that the vocabulary and length come
// from the training texts alone.
func TestLoadTextSplits(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "w.tsv")
	writeWordLines(t, lines, 300, 1)
	// A letter that only one text has: it must be unknown unless that
	// text is a training text.
	b, _ := os.ReadFile(lines)
	os.WriteFile(lines, append(b, []byte("q\tqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\nab\tÆ\n")...), 0o644)
	cfg := DefaultConfig()
	cfg.Data, cfg.Model, cfg.Seed, cfg.ValSplit, cfg.TestSplit = lines, "lstm-classifier", 3, 0.2, 0.1
	ds, err := LoadDatasets(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 218 || ds.Val.Len() != 54 || ds.Test.Len() != 30 || !slices.Equal(ds.Classes, []string{"ab", "q", "xyz"}) {
		t.Fatalf("%d training, %d validation, %d test texts of %v", ds.Train.Len(), ds.Val.Len(), ds.Test.Len(), ds.Classes)
	}
	enc := ds.Encoder
	x := make([]float32, enc.MaxLen)
	texts := func(d interface {
		Len() int
		Get(int, []float32, *rand.Rand) (int, error)
	}) []string {
		var out []string
		for i := range d.Len() {
			y, err := d.Get(i, x, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(y, x))
		}
		return out
	}
	if n := len(texts(ds.Train)) + len(texts(ds.Val)) + len(texts(ds.Test)); n != 302 {
		t.Errorf("%d texts in the splits, want 302", n)
	}
	trainHasAE := false
	for _, s := range texts(ds.Train) {
		trainHasAE = trainHasAE || strings.Contains(s, fmt.Sprint(enc.Vocab.ID("Æ")))
	}
	if id := enc.Vocab.ID("Æ"); (id != text.Unk) != trainHasAE {
		t.Errorf("Æ has id %d, but a training text holds it: %v", id, trainHasAE)
	}
	if enc.MaxLen != 8 {
		t.Errorf("max length %d, want 8 (the longest made-up word; the 40-letter one is a single outlier)", enc.MaxLen)
	}
	// The same settings give the same split; NoTest keeps the test texts
	// out of training all the same.
	cfg.NoTest = true
	again, err := LoadDatasets(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Test != nil || !slices.Equal(texts(again.Train), texts(ds.Train)) {
		t.Error("no_test changed the training texts, or kept a test set")
	}
}

// TestTextModelConfigMatchesZoo builds the resizable classifiers at the
// zoo's sizes and requires the zoo's parameters exactly.
func TestTextModelConfigMatchesZoo(t *testing.T) {
	for _, name := range models.TextNames() {
		s := models.TextShape{Vocab: 12, Classes: 3}
		zoo, err := models.NewText(name, s, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		rc, ok := textClassifierConfig(name)
		if !ok {
			t.Fatalf("%s has no resizable configuration", name)
		}
		rc.EmbedDim, rc.Hidden, rc.Layers = 64, 128, 1
		m, err := models.NewRNNClassifier(s, rc, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(zoo.ParamSet().Data, m.ParamSet().Data) || len(nn.NamedParams(zoo)) != len(nn.NamedParams(m)) {
			t.Errorf("%s: the resized model at the zoo's sizes differs from the zoo's", name)
		}
	}
}

// TestRecurrentDropoutIsRegistered checks that the dropout between stacked
// recurrent layers gets a generator the training state saves.
func TestRecurrentDropoutIsRegistered(t *testing.T) {
	m, err := models.NewRNNClassifier(models.TextShape{Vocab: 10, Classes: 2}, models.RNNClassifierConfig{Layers: 2, Dropout: 0.3}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	g := seedDropout(m, 5)
	if _, ok := g["lstm"]; !ok || g["lstm"] == g["dropout"] {
		t.Errorf("generators %v: want the LSTM's own", slices.Sorted(maps.Keys(g)))
	}
	lm, err := models.NewCharLM(10, models.CharLMConfig{Layers: 2, Dropout: 0.2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if g := seedDropout(lm, 5); len(g) != 1 || g["lstm"] == nil {
		t.Errorf("char-lm generators %v", slices.Sorted(maps.Keys(g)))
	}
}

// TestTextResumeIsBitIdentical interrupts a text classifier with two
// stacked LSTM layers and dropout between them, and a two-layer language
// model whose windows jitter, and requires each resumed run to end exactly
// as the uninterrupted one.
func TestTextResumeIsBitIdentical(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "w.tsv")
	writeWordLines(t, lines, 150, 1)
	book := filepath.Join(dir, "book.txt")
	os.WriteFile(book, []byte(strings.Repeat("the cat sat on the mat; the dog lay on the rug.\n", 40)), 0o644)
	for _, tc := range []struct {
		name string
		set  func(c *Config)
	}{
		{"lstm-classifier", func(c *Config) { c.Data, c.Model = lines, "lstm-classifier" }},
		{"char-lm", func(c *Config) { c.Data, c.Model, c.Task, c.SeqLen = book, models.CharLMName, TaskLM, 24 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			cfg := func(name string) Config {
				c := testConfig(out, name)
				c.Epochs, c.BatchSize, c.CheckpointEvery = 2, 16, 3
				c.Layers, c.Hidden, c.EmbedDim = 2, 12, 6
				tc.set(&c)
				return c
			}
			want, err := Run(context.Background(), cfg("straight"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			_, err = Run(ctx, cfg("interrupted"), Options{OnStep: func(s StepInfo) {
				if s.GlobalStep == 5 {
					cancel()
				}
			}})
			var ie *InterruptedError
			if !errors.As(err, &ie) || ie.Step != 5 {
				t.Fatalf("interrupted run: %v", err)
			}
			got, err := Resume(context.Background(), filepath.Join(out, "interrupted"), cfg("interrupted"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			sameRun(t, "resumed", want, got)
			if !fileExists(filepath.Join(got.Dir, EncoderFile)) {
				t.Errorf("no %s in the run directory", EncoderFile)
			}
		})
	}
}

// TestResumeRefusesOtherVocabulary changes the training texts without
// changing their number and requires Resume to notice the new vocabulary.
func TestResumeRefusesOtherVocabulary(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "w.tsv")
	writeWordLines(t, lines, 60, 1)
	cfg := testConfig(t.TempDir(), "v")
	cfg.Data, cfg.Model, cfg.Epochs, cfg.Hidden = lines, "gru-classifier", 1, 8
	sum, err := Run(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(lines)
	os.WriteFile(lines, []byte(strings.ReplaceAll(string(b), "m", "k")), 0o644)
	cfg.Epochs = 2
	if _, err := Resume(context.Background(), sum.Dir, cfg, Options{}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("resuming on other texts: %v", err)
	}
}

func TestTextConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.Tokenize = "bpe" }, "--tokenize"},
		{func(c *Config) { c.MaxLen = -1 }, "--max-len"},
		{func(c *Config) { c.TestSplit = 1 }, "--test-split"},
		{func(c *Config) { c.Layers = 2 }, "not seed-cnn"},
		{func(c *Config) { c.Model = models.CharLMName }, "--task lm"},
		{func(c *Config) { c.Task, c.Model = TaskLM, "lstm-classifier" }, "--task lm trains char-lm"},
		{func(c *Config) { c.Task, c.Model, c.Tokenize = TaskLM, models.CharLMName, "word" }, "character-level"},
		{func(c *Config) { c.Task, c.Model, c.ValSplit, c.TestSplit = TaskLM, models.CharLMName, 0.5, 0.5 }, "no training text"},
	} {
		c := DefaultConfig()
		tc.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", c, err, tc.want)
		}
	}
	c := DefaultConfig()
	c.Task, c.Model, c.Layers = TaskLM, models.CharLMName, 2
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
