package text

// This file holds Dataset, a corpus numbered by an Encoder and served as
// data.Dataset rows, and the length helpers of the sequence contract (see
// the package comment). It leaves out bucketing texts of similar length
// into batches, which would cut the padding a recurrent layer skips anyway.

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/data"
)

// Lengther is implemented by datasets of padded sequences: Length returns
// the number of real tokens of example i, at least 1. Wrappers such as
// data.Subset do not pass it on; PaddedLengths works through any of them.
type Lengther interface {
	Length(i int) int
}

// Dataset is a corpus encoded once into token ids. It implements
// data.Dataset with Shape [MaxLen], data.Labeler and Lengther, and is safe
// for concurrent Gets.
type Dataset struct {
	enc     *Encoder
	classes []string
	ids     []int32 // the kept tokens of every text, back to back
	off     []int   // text i is ids[off[i]:off[i+1]]
	labels  []int
	sources []string
}

var (
	_ data.Dataset = (*Dataset)(nil)
	_ data.Labeler = (*Dataset)(nil)
	_ Lengther     = (*Dataset)(nil)
)

// NewDataset encodes every text of c with enc, whose tokenizer must be the
// one c was loaded with.
func NewDataset(c *Corpus, enc *Encoder) (*Dataset, error) {
	if err := enc.Validate(); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.Tokenizer != enc.Tokenizer {
		return nil, fmt.Errorf("text: corpus tokenised as %s, encoder expects %s", c.Tokenizer, enc.Tokenizer)
	}
	d := &Dataset{enc: enc, classes: c.Classes, labels: c.Labels, sources: c.Sources, off: make([]int, 1, len(c.Docs)+1)}
	for _, doc := range c.Docs {
		for _, tok := range doc[:min(len(doc), enc.MaxLen)] {
			d.ids = append(d.ids, int32(enc.Vocab.ID(tok)))
		}
		d.off = append(d.off, len(d.ids))
	}
	return d, nil
}

// Len implements data.Dataset.
func (d *Dataset) Len() int { return len(d.labels) }

// Shape implements data.Dataset: one row of MaxLen token ids.
func (d *Dataset) Shape() []int { return []int{d.enc.MaxLen} }

// Classes implements data.Dataset.
func (d *Dataset) Classes() []string { return d.classes }

// Labels implements data.Labeler.
func (d *Dataset) Labels() []int { return d.labels }

// Encoder returns the encoder the texts were numbered with.
func (d *Dataset) Encoder() *Encoder { return d.enc }

// Source returns where text i came from.
func (d *Dataset) Source(i int) string {
	if d.sources == nil {
		return ""
	}
	return d.sources[i]
}

// Length implements Lengther.
func (d *Dataset) Length(i int) int { return d.off[i+1] - d.off[i] }

// Get implements data.Dataset: x receives text i's ids as float32 values,
// padded with Pad. rng is unused.
func (d *Dataset) Get(i int, x []float32, _ *rand.Rand) (int, error) {
	if i < 0 || i >= len(d.labels) {
		return 0, fmt.Errorf("text: example %d outside the dataset's %d", i, len(d.labels))
	}
	if len(x) != d.enc.MaxLen {
		return 0, fmt.Errorf("text: example buffer of %d values, want %d", len(x), d.enc.MaxLen)
	}
	ids := d.ids[d.off[i]:d.off[i+1]]
	for j, id := range ids {
		x[j] = float32(id)
	}
	clear(x[len(ids):])
	return d.labels[i], nil
}

// PaddedLengths returns the length of each row of a batch x of rows of
// seqLen token ids: one past the row's last non-Pad entry, and 1 for a row
// of Pad alone. It reuses dst when it has room.
func PaddedLengths(x []float32, seqLen int, dst []int) []int {
	if seqLen < 1 || len(x)%seqLen != 0 {
		panic(fmt.Sprintf("text: %d values are not rows of %d", len(x), seqLen))
	}
	n := len(x) / seqLen
	if cap(dst) < n {
		dst = make([]int, n)
	}
	dst = dst[:n]
	for b := range n {
		row := x[b*seqLen : (b+1)*seqLen]
		l := seqLen
		for l > 1 && row[l-1] == Pad {
			l--
		}
		dst[b] = l
	}
	return dst
}
