package task

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
)

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
	g := run.SeedDropout(m, 5)
	if _, ok := g["lstm"]; !ok || g["lstm"] == g["dropout"] {
		t.Errorf("Generators %v: want the LSTM's own", slices.Sorted(maps.Keys(g)))
	}
	lm, err := models.NewCharLM(10, models.CharLMConfig{Layers: 2, Dropout: 0.2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if g := run.SeedDropout(lm, 5); len(g) != 1 || g["lstm"] == nil {
		t.Errorf("char-lm Generators %v", slices.Sorted(maps.Keys(g)))
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
		set  func(c *run.Config)
	}{
		{"lstm-classifier", func(c *run.Config) { c.Data, c.Model = lines, "lstm-classifier" }},
		{"char-lm", func(c *run.Config) { c.Data, c.Model, c.Task, c.SeqLen = book, models.CharLMName, run.TaskLM, 24 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			cfg := func(name string) run.Config {
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
			_, err = Run(ctx, cfg("interrupted"), Options{OnStep: func(s train.StepInfo) {
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
			if !run.Exists(filepath.Join(got.Dir, source.EncoderFile)) {
				t.Errorf("no %s in the run directory", source.EncoderFile)
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

func writeWordLines(t testing.TB, path string, n int, seed uint64) {
	t.Helper()
	if err := synth.WriteWordLines(path, n, seed); err != nil {
		t.Fatal(err)
	}
}
