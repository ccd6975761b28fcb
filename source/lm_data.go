package source

// This file holds a language model's data: a plain text (one file, or a
// folder of .txt files) cut into a training head and held-out tails, and
// served as windows of characters with their next characters as targets.
// It leaves out word-level language models and texts too large to hold in
// memory.

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/run"
)

// maxLMBytes bounds the text a language model reads.
const maxLMBytes = 1 << 30

// LMWindows serves a sequence of token ids as windows of seqLen+1 ids: a
// model reads the first seqLen and predicts the last seqLen, each the
// successor of the one before. Window i starts at i*seqLen, so the windows
// tile the text; with jitter, each start moves right by a random amount
// below seqLen, drawn from the loader's per-example generator, so that an
// epoch's windows are not cut at the same places every time and a resumed
// run still draws the same ones.
type LMWindows struct {
	ids    []int32
	seqLen int
	jitter bool
}

var _ data.Dataset = (*LMWindows)(nil)

// NewLMWindows serves ids as windows of seqLen+1 ids, with random starts
// when jitter is set (training) and fixed ones otherwise.
func NewLMWindows(ids []int32, seqLen int, jitter bool) *LMWindows {
	return &LMWindows{ids: ids, seqLen: seqLen, jitter: jitter}
}

// SetJitter turns the random starts on or off.
func (w *LMWindows) SetJitter(on bool) { w.jitter = on }

// Len implements data.Dataset.
func (w *LMWindows) Len() int { return (len(w.ids) - 1) / w.seqLen }

// Shape implements data.Dataset.
func (w *LMWindows) Shape() []int { return []int{w.seqLen + 1} }

// Classes implements data.Dataset: a language model has none.
func (w *LMWindows) Classes() []string { return nil }

// Get implements data.Dataset; the label is always 0.
func (w *LMWindows) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	L := w.seqLen
	if i < 0 || i >= w.Len() {
		return 0, fmt.Errorf("source: window %d outside the text's %d", i, w.Len())
	}
	if len(x) != L+1 {
		return 0, fmt.Errorf("source: window buffer of %d values, want %d", len(x), L+1)
	}
	start := i * L
	if w.jitter && rng != nil {
		start += rng.IntN(min(L, len(w.ids)-L-start))
	}
	for j, id := range w.ids[start : start+L+1] {
		x[j] = float32(id)
	}
	return 0, nil
}

// characters returns the number of characters the windows predict.
func (w *LMWindows) characters() int { return w.Len() * w.seqLen }

// LoadLM reads cfg.Data as a language model's text and cuts it, in order,
// into a training head, a validation part (cfg.ValSplit of the characters)
// and a test tail (cfg.TestSplit; left out, but still not trained on, with
// cfg.NoTest). The vocabulary holds the head's characters seen at least
// cfg.MinFreq times; with enc (a run's saved encoder) it is enc's.
func LoadLM(cfg run.Config, enc *text.Encoder, log io.Writer) (*Datasets, error) {
	if log == nil {
		log = io.Discard
	}
	if cfg.Data == "" {
		return nil, fmt.Errorf("--data: --task lm needs a text: a UTF-8 text file, or a folder of .txt files")
	}
	s, what, err := readLMText(cfg.Data)
	if err != nil {
		return nil, err
	}
	tok := text.Tokenizer{Level: text.Char, Lower: cfg.Lowercase}
	toks := tok.Tokens(nil, s)
	L := cfg.SeqLength()
	n := len(toks)
	nTest := int(math.Round(cfg.TestSplit * float64(n)))
	nVal := int(math.Round(cfg.ValSplit * float64(n)))
	nTrain := n - nVal - nTest
	for _, part := range []struct {
		n    int
		flag string
		frac float64
	}{{nTrain, "training head", 1 - cfg.ValSplit - cfg.TestSplit}, {nVal, "--val-split", cfg.ValSplit}, {nTest, "--test-split", cfg.TestSplit}} {
		if part.frac > 0 && part.n < L+1 {
			return nil, fmt.Errorf("--data %s: the %s (%g of %d characters) has %d characters, fewer than --seq-len %d + 1; use a longer text or a shorter --seq-len",
				cfg.Data, part.flag, part.frac, n, part.n, L)
		}
	}
	train, val, test := toks[:nTrain], toks[nTrain:nTrain+nVal], toks[nTrain+nVal:]
	if enc == nil {
		c := &text.Corpus{Tokenizer: tok, Classes: []string{"text"}, Docs: [][]string{train}, Labels: []int{0}}
		v, err := text.BuildVocab(c, nil, text.VocabOptions{MinFreq: cfg.MinFreq})
		if err != nil {
			return nil, fmt.Errorf("--min-freq %d: %w", cfg.MinFreq, err)
		}
		if v.Len() < 3 {
			return nil, fmt.Errorf("--min-freq %d: no character of the training text is that frequent; lower it", cfg.MinFreq)
		}
		enc = &text.Encoder{Tokenizer: tok, Vocab: v, MaxLen: L}
		fmt.Fprintf(log, "text: %s: %d characters: %d training, %d validation, %d test; vocabulary of %d characters: %s, %s and those of the training text seen %s\n",
			what, n, nTrain, nVal, nTest, v.Len(), text.PadToken, text.UnkToken, times(cfg.MinFreq))
	} else if enc.Tokenizer != tok || enc.MaxLen != L {
		return nil, fmt.Errorf("source: the run's encoder (%s, length %d) does not match its config (%s, --seq-len %d)", enc.Tokenizer, enc.MaxLen, tok, L)
	}
	window := func(part []string, jitter bool) *LMWindows {
		ids := make([]int32, len(part))
		for i, t := range part {
			ids[i] = int32(enc.Vocab.ID(t))
		}
		return &LMWindows{ids: ids, seqLen: L, jitter: jitter}
	}
	ds := &Datasets{Train: window(train, true), Shape: []int{L + 1}, Encoder: enc,
		Source: fmt.Sprintf("%s (%d characters)", what, n)}
	if nVal > 0 {
		ds.Val = window(val, false)
	}
	if nTest > 0 && !cfg.NoTest {
		ds.Test = window(test, false)
	}
	return ds, nil
}

// readLMText reads a language model's text: the file path, or every .txt
// file below the folder path in order of their paths, joined by blank
// lines. It must be UTF-8; a byte order mark goes and CRLF line ends become
// LF. It also returns a description for logs.
func readLMText(path string) (string, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("--data: %w", err)
	}
	files := []string{path}
	if st.IsDir() {
		files = nil
		err := filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != path && strings.HasPrefix(e.Name(), ".") {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !e.IsDir() && hasTextExt(e.Name()) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return "", "", fmt.Errorf("--data %s: %w", path, err)
		}
		if len(files) == 0 {
			return "", "", fmt.Errorf("--data %s: a folder without .txt files; a language model reads a text file or a folder of them", path)
		}
		sort.Strings(files)
	}
	var all bytes.Buffer
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", "", fmt.Errorf("--data: %w", err)
		}
		if all.Len()+len(b) > maxLMBytes {
			return "", "", fmt.Errorf("--data %s: more than %d MiB of text", path, maxLMBytes>>20)
		}
		b = bytes.TrimPrefix(b, []byte("\uFEFF"))
		if !utf8.Valid(b) {
			return "", "", fmt.Errorf("--data %s: not UTF-8 text (bad byte at offset %d); convert it first, e.g. with iconv", f, InvalidUTF8(b))
		}
		if i > 0 {
			all.WriteString("\n\n")
		}
		all.Write(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
	}
	what := path
	if len(files) > 1 {
		what = fmt.Sprintf("%d text files in %s", len(files), path)
	}
	return all.String(), what, nil
}

// InvalidUTF8 returns the offset of b's first byte that is not UTF-8.
func InvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}
