package text

// This file holds Corpus, the tokenised texts a loader returns, and the
// load report. It leaves out streaming corpora too large for memory: every
// text is read and tokenised at load time, which suits classification
// datasets of up to some hundred megabytes.

import (
	"fmt"

	"github.com/kiln-ml/kiln/data"
)

// Corpus is a labelled collection of tokenised texts, before any
// vocabulary numbers them.
type Corpus struct {
	Tokenizer Tokenizer  // how the texts were split
	Classes   []string   // class names, sorted; label i is Classes[i]
	Docs      [][]string // the tokens of each text, never empty
	Labels    []int      // the label of each text
	Sources   []string   // where each text came from: a path, or path:line
}

// Len returns the number of texts.
func (c *Corpus) Len() int { return len(c.Docs) }

// MaxTokens returns the length of the longest text in tokens, a bound for
// an Encoder's MaxLen.
func (c *Corpus) MaxTokens() int {
	n := 0
	for _, d := range c.Docs {
		n = max(n, len(d))
	}
	return n
}

// LengthQuantile returns the smallest length that at least a fraction q of
// the texts fit in, a MaxLen that truncates the longest 1-q of them.
func (c *Corpus) LengthQuantile(q float64) int {
	if len(c.Docs) == 0 {
		return 0
	}
	counts := map[int]int{}
	for _, d := range c.Docs {
		counts[len(d)]++
	}
	need := max(1, int(q*float64(len(c.Docs))+1-1e-9)) // ceil, forgiving rounding
	seen := 0
	for n := 0; ; n++ {
		seen += counts[n]
		if seen >= need || seen == len(c.Docs) {
			return n
		}
	}
}

// check reports an inconsistent corpus: slices of different lengths, an
// empty text, or a label outside Classes.
func (c *Corpus) check() error {
	if err := c.Tokenizer.Validate(); err != nil {
		return err
	}
	if len(c.Labels) != len(c.Docs) || (c.Sources != nil && len(c.Sources) != len(c.Docs)) {
		return fmt.Errorf("text: corpus has %d texts, %d labels and %d sources", len(c.Docs), len(c.Labels), len(c.Sources))
	}
	for i, d := range c.Docs {
		if len(d) == 0 {
			return fmt.Errorf("text: corpus text %d (%s) has no tokens", i, c.source(i))
		}
		if y := c.Labels[i]; y < 0 || y >= len(c.Classes) {
			return fmt.Errorf("text: corpus text %d (%s) has label %d, want one of %d classes", i, c.source(i), y, len(c.Classes))
		}
	}
	return nil
}

func (c *Corpus) source(i int) string {
	if c.Sources == nil {
		return "no source"
	}
	return c.Sources[i]
}

// Skipped is a text left out at load time, and why.
type Skipped struct {
	Source string // a path, or path:line
	Reason string
}

// Report says what a loader found.
type Report struct {
	Root    string
	Classes int
	Found   int       // candidate texts: files with a text extension, or lines
	Kept    int       // of those, texts in the corpus
	Skipped []Skipped // the others, in order
	Ignored int       // other files: other extensions, or loose in the root
	Hidden  int       // hidden files and folders passed over
}

// String summarizes the report in one line, naming up to three skipped texts.
func (r *Report) String() string {
	head := fmt.Sprintf("text: %s: %d classes, kept %d of %d texts", r.Root, r.Classes, r.Kept, r.Found)
	return head + data.SkipSummary(r.Skipped, func(s Skipped) (string, string) { return s.Source, s.Reason }, r.Ignored, r.Hidden)
}
