package text

// This file holds the line-per-example format, one file of
// "label<TAB>text" lines. It leaves out quoting (a text cannot hold a line
// break) and CSV or JSON-lines files.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"unicode/utf8"
)

// LinesOptions configures ReadLines.
type LinesOptions struct {
	Tokenizer Tokenizer
	Strict    bool  // a bad text fails ReadLines instead of being skipped
	MaxBytes  int64 // longer lines are errors; 0 means DefaultMaxBytes
}

// ReadLines reads a file of examples, one per line:
//
//	label<TAB>text
//
// The label is everything before the first TAB and the text everything
// after it, each less surrounding white space; a trailing "\r" is dropped,
// and so are blank lines and a UTF-8 byte order mark. Classes are the
// distinct labels, sorted. A line with no TAB, an empty label, or more
// than MaxBytes bytes is an error naming the line; a text that is not valid UTF-8 or has no tokens is
// skipped and reported (an error with Strict).
func ReadLines(path string, opt LinesOptions) (*Corpus, *Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("text: %w", err)
	}
	defer f.Close()
	return ParseLines(f, path, opt)
}

// ParseLines reads the lines format from r; name stands for the file in
// sources and messages.
func ParseLines(r io.Reader, name string, opt LinesOptions) (*Corpus, *Report, error) {
	if err := opt.Tokenizer.Validate(); err != nil {
		return nil, nil, err
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	rep := &Report{Root: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), int(min(opt.MaxBytes, 1<<30))+1)
	type example struct {
		label string
		toks  []string
		src   string
	}
	var kept []example
	seen := map[string]bool{}
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		src := fmt.Sprintf("%s:%d", name, n)
		label, txt, ok := bytes.Cut(line, []byte("\t"))
		label = bytes.TrimSpace(label)
		if !ok || len(label) == 0 {
			return nil, nil, fmt.Errorf("text: %s: want \"label<TAB>text\", got %.40q", src, line)
		}
		if int64(len(line)) > opt.MaxBytes {
			return nil, nil, fmt.Errorf("text: %s: line longer than %d bytes", src, opt.MaxBytes)
		}
		rep.Found++
		reason := "label is not valid UTF-8"
		var toks []string
		if utf8.Valid(label) {
			toks, reason = tokenizeText(txt, opt.Tokenizer)
		}
		if reason != "" {
			if opt.Strict {
				return nil, nil, fmt.Errorf("text: %s: %s", src, reason)
			}
			rep.Skipped = append(rep.Skipped, Skipped{Source: src, Reason: reason})
			continue
		}
		kept = append(kept, example{string(label), toks, src})
		seen[string(label)] = true
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, fmt.Errorf("text: %s: a line is longer than %d bytes: %w", name, opt.MaxBytes, err)
		}
		return nil, nil, fmt.Errorf("text: %s: %w", name, err)
	}
	if len(kept) == 0 {
		return nil, nil, fmt.Errorf("text: %s has no usable \"label<TAB>text\" lines (%s)", name, rep)
	}
	c := &Corpus{Tokenizer: opt.Tokenizer}
	for l := range seen {
		c.Classes = append(c.Classes, l)
	}
	sort.Strings(c.Classes)
	index := make(map[string]int, len(c.Classes))
	for i, l := range c.Classes {
		index[l] = i
	}
	for _, e := range kept {
		c.Docs = append(c.Docs, e.toks)
		c.Labels = append(c.Labels, index[e.label])
		c.Sources = append(c.Sources, e.src)
	}
	rep.Classes, rep.Kept = len(c.Classes), len(c.Docs)
	return c, rep, nil
}
