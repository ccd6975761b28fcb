package text

// This file holds Encoder, everything needed to turn a string into the
// model's input the way training did, and its JSON file. It leaves out
// keeping the tail of long texts (truncation always keeps the head) and
// sliding windows over them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// MaxSeqLen bounds an Encoder's MaxLen.
const MaxSeqLen = 1 << 20

// Encoder turns text into a fixed-length row of token ids: tokenise,
// number with the vocabulary, truncate to MaxLen, pad with Pad.
type Encoder struct {
	Tokenizer Tokenizer
	Vocab     *Vocab
	MaxLen    int // tokens per example; longer texts keep their first MaxLen
}

// Validate reports an unusable Encoder.
func (e *Encoder) Validate() error {
	if err := e.Tokenizer.Validate(); err != nil {
		return err
	}
	if e.Vocab == nil {
		return errors.New("text: encoder has no vocabulary")
	}
	if e.MaxLen < 1 || e.MaxLen > MaxSeqLen {
		return fmt.Errorf("text: encoder max length %d, want it in [1, %d]", e.MaxLen, MaxSeqLen)
	}
	return nil
}

// EncodeTokens writes the ids of tokens into x (len MaxLen) as float32,
// truncated and padded, and returns the number of tokens kept. An empty
// text gives length 1 and an all-Pad row, since a recurrent layer needs at
// least one step.
func (e *Encoder) EncodeTokens(tokens []string, x []float32) int {
	if len(x) != e.MaxLen {
		panic(fmt.Sprintf("text: encoding into %d values, want max length %d", len(x), e.MaxLen))
	}
	n := min(len(tokens), e.MaxLen)
	for i, tok := range tokens[:n] {
		x[i] = float32(e.Vocab.ID(tok))
	}
	clear(x[n:])
	return max(n, 1)
}

// Encode tokenises s and encodes it into x as EncodeTokens does.
func (e *Encoder) Encode(s string, x []float32) int {
	return e.EncodeTokens(e.Tokenizer.Tokens(nil, s), x)
}

// encoderFormat names the file so that a reader can tell it from other
// JSON; encoderVersion changes when the layout does.
const (
	encoderFormat  = "kiln-text-encoder"
	encoderVersion = 1
)

type encoderJSON struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	Tokenizer Tokenizer `json:"tokenizer"`
	MaxLen    int       `json:"max_len"`
	Vocab     *Vocab    `json:"vocab"`
}

// MarshalJSON writes the encoder as
//
//	{"format": "kiln-text-encoder", "version": 1,
//	 "tokenizer": {"level": "char", "lower": true}, "max_len": 32,
//	 "vocab": {"min_freq": 1, "tokens": ["<pad>", "<unk>", "e", ...]}}
func (e *Encoder) MarshalJSON() ([]byte, error) {
	return marshalRaw(encoderJSON{encoderFormat, encoderVersion, e.Tokenizer, e.MaxLen, e.Vocab})
}

// ParseEncoder reads an encoder from its JSON form and validates it.
// Unknown fields are errors, so that a misspelt key is not silently
// ignored.
func ParseEncoder(b []byte) (*Encoder, error) {
	var j encoderJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("text: encoder: %w", err)
	}
	if dec.More() {
		return nil, errors.New("text: encoder: data after the JSON object")
	}
	if j.Format != encoderFormat || j.Version != encoderVersion {
		return nil, fmt.Errorf("text: encoder format %q version %d, want %q version %d", j.Format, j.Version, encoderFormat, encoderVersion)
	}
	e := &Encoder{Tokenizer: j.Tokenizer, Vocab: j.Vocab, MaxLen: j.MaxLen}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// Save writes the encoder's JSON to path.
func (e *Encoder) Save(path string) error {
	if err := e.Validate(); err != nil {
		return err
	}
	// Without HTML escaping "<pad>" stays readable.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return fmt.Errorf("text: encoder %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("text: encoder: %w", err)
	}
	return nil
}

// LoadEncoder reads an encoder that Save wrote.
func LoadEncoder(path string) (*Encoder, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("text: encoder: %w", err)
	}
	e, err := ParseEncoder(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return e, nil
}
