package text

// This file holds the vocabulary: building it from a corpus, looking tokens
// up, and its JSON form. It leaves out special tokens beyond padding and
// unknown (begin/end of sequence, mask), which a language model would add.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"unicode/utf8"
)

// The reserved ids and their tokens.
const (
	Pad      = 0       // the id of padding past a text's end
	Unk      = 1       // the id of every token not in the vocabulary
	PadToken = "<pad>" // Pad's token in Vocab.Tokens and the JSON file
	UnkToken = "<unk>" // Unk's token
)

// MaxVocab bounds the number of tokens of a vocabulary, so that a JSON file
// cannot ask for an absurd embedding table.
const MaxVocab = 1 << 24

// Vocab numbers tokens: Pad is 0, Unk is 1, and the corpus's tokens follow
// from 2 in order of decreasing frequency, ties broken by the tokens' byte
// order, so the same training texts always give the same numbering. It is
// immutable and safe for concurrent use.
type Vocab struct {
	tokens  []string
	ids     map[string]int
	minFreq int
}

// VocabOptions configures BuildVocab.
type VocabOptions struct {
	// MinFreq leaves out tokens seen fewer times in the training texts;
	// they become Unk. 0 means 1.
	MinFreq int
	// MaxSize caps the vocabulary, reserved tokens included, keeping the
	// most frequent; 0 means no cap.
	MaxSize int
}

// BuildVocab counts the tokens of the corpus texts at indices (all texts
// when indices is nil) and returns their vocabulary. Build it from the
// training split only, so that validation texts meet unknown tokens as new
// data would.
func BuildVocab(c *Corpus, indices []int, opt VocabOptions) (*Vocab, error) {
	if opt.MinFreq < 0 || opt.MaxSize < 0 || (opt.MaxSize > 0 && opt.MaxSize < 2) {
		return nil, fmt.Errorf("text: vocabulary min frequency %d and max size %d, want >= 0 and a size of 0 or >= 2", opt.MinFreq, opt.MaxSize)
	}
	minFreq := max(opt.MinFreq, 1)
	counts := map[string]int{}
	count := func(i int) {
		for _, tok := range c.Docs[i] {
			counts[tok]++
		}
	}
	if indices == nil {
		for i := range c.Docs {
			count(i)
		}
	} else {
		for _, i := range indices {
			if i < 0 || i >= len(c.Docs) {
				return nil, fmt.Errorf("text: vocabulary index %d outside the corpus's %d texts", i, len(c.Docs))
			}
			count(i)
		}
	}
	delete(counts, PadToken)
	delete(counts, UnkToken)
	var toks []string
	for tok, n := range counts {
		if n >= minFreq {
			toks = append(toks, tok)
		}
	}
	sort.Slice(toks, func(i, j int) bool {
		a, b := counts[toks[i]], counts[toks[j]]
		if a != b {
			return a > b
		}
		return toks[i] < toks[j]
	})
	if opt.MaxSize > 0 && len(toks) > opt.MaxSize-2 {
		toks = toks[:opt.MaxSize-2]
	}
	if len(toks)+2 > MaxVocab {
		return nil, fmt.Errorf("text: vocabulary of %d tokens, more than %d; raise the min frequency or set a max size", len(toks)+2, MaxVocab)
	}
	v, err := NewVocab(toks)
	if err != nil {
		return nil, err
	}
	v.minFreq = minFreq
	return v, nil
}

// NewVocab returns the vocabulary of Pad, Unk and then tokens in the given
// order. Tokens must be distinct, non-empty, valid UTF-8, and not the
// reserved tokens.
func NewVocab(tokens []string) (*Vocab, error) {
	if len(tokens)+2 > MaxVocab {
		return nil, fmt.Errorf("text: vocabulary of %d tokens, more than %d", len(tokens)+2, MaxVocab)
	}
	v := &Vocab{tokens: make([]string, 0, len(tokens)+2), ids: make(map[string]int, len(tokens)+2), minFreq: 1}
	for _, tok := range append([]string{PadToken, UnkToken}, tokens...) {
		if tok == "" || !utf8.ValidString(tok) {
			return nil, fmt.Errorf("text: vocabulary token %d (%q) is empty or not valid UTF-8", len(v.tokens), tok)
		}
		if j, dup := v.ids[tok]; dup {
			return nil, fmt.Errorf("text: vocabulary token %q at %d and %d", tok, j, len(v.tokens))
		}
		v.ids[tok] = len(v.tokens)
		v.tokens = append(v.tokens, tok)
	}
	return v, nil
}

// Len returns the number of ids, reserved ones included: the size of an
// embedding table for this vocabulary.
func (v *Vocab) Len() int { return len(v.tokens) }

// MinFreq returns the minimum frequency the vocabulary was built with (1
// for one made by NewVocab).
func (v *Vocab) MinFreq() int { return v.minFreq }

// ID returns the id of tok, or Unk.
func (v *Vocab) ID(tok string) int {
	if id, ok := v.ids[tok]; ok {
		return id
	}
	return Unk
}

// Token returns the token of id; it panics if id is outside [0, Len()).
func (v *Vocab) Token(id int) string { return v.tokens[id] }

// Tokens returns a copy of every token in id order, Pad and Unk first.
func (v *Vocab) Tokens() []string { return append([]string(nil), v.tokens...) }

// vocabJSON is the saved form: the tokens in id order, reserved ones
// included so that a reader sees the whole table.
type vocabJSON struct {
	MinFreq int      `json:"min_freq"`
	Tokens  []string `json:"tokens"`
}

// MarshalJSON writes {"min_freq": n, "tokens": ["<pad>", "<unk>", ...]}.
func (v *Vocab) MarshalJSON() ([]byte, error) {
	return marshalRaw(vocabJSON{MinFreq: v.minFreq, Tokens: v.tokens})
}

// marshalRaw is json.Marshal without HTML escaping, so that "<pad>" stays
// readable in a saved file (json.Marshal of an enclosing value escapes it
// again; an Encoder with SetEscapeHTML(false) does not).
func marshalRaw(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads what MarshalJSON writes, checking that the reserved
// tokens come first and that every token is distinct.
func (v *Vocab) UnmarshalJSON(b []byte) error {
	var j vocabJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("text: vocabulary: %w", err)
	}
	if len(j.Tokens) < 2 || j.Tokens[Pad] != PadToken || j.Tokens[Unk] != UnkToken {
		return fmt.Errorf("text: vocabulary must start with %q and %q", PadToken, UnkToken)
	}
	if j.MinFreq < 1 {
		return fmt.Errorf("text: vocabulary min_freq %d, want >= 1", j.MinFreq)
	}
	nv, err := NewVocab(j.Tokens[2:])
	if err != nil {
		return err
	}
	nv.minFreq = j.MinFreq
	*v = *nv
	return nil
}
