package text

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data"
)

func TestDataset(t *testing.T) {
	c, _, err := ParseLines(strings.NewReader("x\tabc\ny\tabcdefg\nx\tzz\ny\tb\n"), "f", LinesOptions{Tokenizer: Tokenizer{Level: Char}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := BuildVocab(c, []int{0, 1}, VocabOptions{}) // z only in the held-out texts
	if err != nil {
		t.Fatal(err)
	}
	// a, b, c occur twice, then d, e, f, g once.
	if got := v.Tokens(); !slices.Equal(got, []string{PadToken, UnkToken, "a", "b", "c", "d", "e", "f", "g"}) {
		t.Fatalf("vocab %q", got)
	}
	ds, err := NewDataset(c, &Encoder{Tokenizer: c.Tokenizer, Vocab: v, MaxLen: 5})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 4 || !slices.Equal(ds.Shape(), []int{5}) || !slices.Equal(ds.Classes(), []string{"x", "y"}) || !slices.Equal(ds.Labels(), []int{0, 1, 0, 1}) {
		t.Fatalf("len %d shape %v classes %q labels %v", ds.Len(), ds.Shape(), ds.Classes(), ds.Labels())
	}
	want := []struct {
		x      []float32
		label  int
		length int
	}{
		{[]float32{2, 3, 4, 0, 0}, 0, 3},
		{[]float32{2, 3, 4, 5, 6}, 1, 5}, // truncated
		{[]float32{1, 1, 0, 0, 0}, 0, 2}, // unknown, not padding
		{[]float32{3, 0, 0, 0, 0}, 1, 1},
	}
	x := []float32{7, 7, 7, 7, 7}
	for i, w := range want {
		y, err := ds.Get(i, x, nil)
		if err != nil {
			t.Fatal(err)
		}
		if y != w.label || !slices.Equal(x, w.x) || ds.Length(i) != w.length {
			t.Errorf("example %d: %v label %d length %d, want %v %d %d", i, x, y, ds.Length(i), w.x, w.label, w.length)
		}
	}
	if ds.Source(1) != "f:2" || ds.Encoder().MaxLen != 5 {
		t.Errorf("source %q", ds.Source(1))
	}
	if _, err := ds.Get(4, x, nil); err == nil {
		t.Error("Get(4) of 4 examples succeeded")
	}
	if _, err := ds.Get(0, x[:4], nil); err == nil {
		t.Error("Get into a short buffer succeeded")
	}

	// Through a Subset and a Loader, the lengths come back from the padded
	// rows alone.
	sub, err := data.NewSubset(ds, []int{3, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(sub, data.LoaderOptions{BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	it, err := l.Epoch(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if !it.Next() {
		t.Fatal(it.Err())
	}
	b := it.Batch()
	if got := PaddedLengths(b.X, b.Shape[1], nil); !slices.Equal(got, []int{1, 5, 2}) || !slices.Equal(b.Y, []int{1, 1, 0}) {
		t.Errorf("batch lengths %v labels %v", got, b.Y)
	}
}

func TestPaddedLengths(t *testing.T) {
	x := []float32{
		0, 0, 0,
		4, 0, 0,
		4, 0, 5, // an inner Pad counts
		1, 2, 3,
	}
	dst := make([]int, 1, 8)
	got := PaddedLengths(x, 3, dst)
	if !slices.Equal(got, []int{1, 1, 3, 3}) || &got[0] != &dst[0] {
		t.Errorf("lengths %v (reused buffer: %v)", got, &got[0] == &dst[0])
	}
	defer func() {
		if recover() == nil {
			t.Error("ragged batch accepted")
		}
	}()
	PaddedLengths(x, 5, nil)
}

func TestNewDatasetErrors(t *testing.T) {
	v, _ := NewVocab([]string{"a"})
	char := Tokenizer{Level: Char}
	good := func() *Corpus {
		return &Corpus{Tokenizer: char, Classes: []string{"x"}, Docs: [][]string{{"a"}}, Labels: []int{0}}
	}
	tests := []struct {
		name   string
		change func(c *Corpus, e *Encoder)
		want   string
	}{
		{"tokenizer mismatch", func(c *Corpus, e *Encoder) { e.Tokenizer.Lower = true }, "corpus tokenised as char, encoder expects char, lower"},
		{"empty text", func(c *Corpus, e *Encoder) { c.Docs[0] = nil }, "has no tokens"},
		{"label out of range", func(c *Corpus, e *Encoder) { c.Labels[0] = 1 }, "label 1"},
		{"missing labels", func(c *Corpus, e *Encoder) { c.Labels = nil }, "1 texts, 0 labels"},
		{"bad max length", func(c *Corpus, e *Encoder) { e.MaxLen = 0 }, "max length 0"},
	}
	for _, tc := range tests {
		c, e := good(), &Encoder{Tokenizer: char, Vocab: v, MaxLen: 3}
		tc.change(c, e)
		if _, err := NewDataset(c, e); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewDataset(good(), &Encoder{Tokenizer: char, Vocab: v, MaxLen: 3}); err != nil {
		t.Errorf("good corpus: %v", err)
	}
}

// TestDatasetConcurrentGets runs Gets from several goroutines, for the race
// detector.
func TestDatasetConcurrentGets(t *testing.T) {
	c := corpusOf("hello", "world", "again")
	v, _ := BuildVocab(c, nil, VocabOptions{})
	ds, err := NewDataset(c, &Encoder{Tokenizer: c.Tokenizer, Vocab: v, MaxLen: 4})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 1, Workers: 3, Shuffle: true, Seed: 3})
	it, err := l.Epoch(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.Next() {
		n++
	}
	if it.Err() != nil || n != 3 {
		t.Errorf("%d batches, %v", n, it.Err())
	}
}
