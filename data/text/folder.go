package text

// This file holds OpenFolder, the TextFolder layout. It leaves out
// character encodings other than UTF-8 (convert Latin-1 and UTF-16 files
// first, e.g. with iconv) and compressed files.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/kiln-ml/kiln/data"
)

// Extensions is the default list of text file extensions, matched without
// regard to case.
var Extensions = []string{".txt"}

// DefaultMaxBytes is the default size limit of one text: larger files (or
// lines) are skipped and reported, as a guard against pointing the loader
// at the wrong folder.
const DefaultMaxBytes = 16 << 20

// FolderOptions configures OpenFolder.
type FolderOptions struct {
	Tokenizer  Tokenizer
	Extensions []string // nil means Extensions
	Strict     bool     // a bad file fails OpenFolder instead of being skipped
	AllowEmpty bool     // accept class folders left with no text
	MaxBytes   int64    // larger files are bad; 0 means DefaultMaxBytes
}

// OpenFolder reads the text folder at root, laid out as
//
//	root/<class>/**/<name>.txt
//
// one text per file, classes sorted by name and numbered from 0, files
// found recursively (symlinked folders followed once) and taken in order of
// (folder path, file name), as the image folder does. Hidden files and
// folders (names starting with '.') are skipped. Each file's text is its
// content less leading and trailing white space and a UTF-8 byte order
// mark; files that are not valid UTF-8, hold no tokens, or exceed MaxBytes
// are skipped and reported (or fail OpenFolder with Strict). OpenFolder
// fails if root is missing or has no class folders, or if a class folder
// has no usable text (unless AllowEmpty).
func OpenFolder(root string, opt FolderOptions) (*Corpus, *Report, error) {
	if err := opt.Tokenizer.Validate(); err != nil {
		return nil, nil, err
	}
	if opt.Extensions == nil {
		opt.Extensions = Extensions
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	rep := &Report{Root: root}
	scan := data.ScanOptions{Prefix: "text", Layout: "root/<class>/<text>.txt", Extensions: opt.Extensions}
	var passed data.ScanCounts
	classes, err := data.FindClasses(root, scan, &passed)
	if err != nil {
		return nil, nil, err
	}
	c := &Corpus{Tokenizer: opt.Tokenizer, Classes: classes}
	rep.Classes = len(classes)
	for label, class := range classes {
		dir := filepath.Join(root, class)
		files, err := data.ClassFiles(dir, scan, &passed)
		if err != nil {
			return nil, nil, err
		}
		// Kept current per class: the errors below print rep.
		rep.Hidden, rep.Ignored = passed.Hidden, passed.Ignored
		rep.Found += len(files)
		kept := 0
		for _, path := range files {
			toks, reason, err := readText(path, opt)
			if err != nil {
				return nil, nil, err
			}
			if reason != "" {
				if opt.Strict {
					return nil, nil, fmt.Errorf("text: %s: %s", path, reason)
				}
				rep.Skipped = append(rep.Skipped, Skipped{Source: path, Reason: reason})
				continue
			}
			c.Docs = append(c.Docs, toks)
			c.Labels = append(c.Labels, label)
			c.Sources = append(c.Sources, path)
			kept++
		}
		if kept == 0 && !opt.AllowEmpty {
			what := "no text files (extensions " + strings.Join(opt.Extensions, " ") + ")"
			if len(files) > 0 {
				what = fmt.Sprintf("no usable texts among its %d files", len(files))
			}
			return nil, nil, fmt.Errorf("text: class folder %s has %s (%s)", dir, what, rep)
		}
	}
	rep.Kept = len(c.Docs)
	if len(c.Docs) == 0 {
		return nil, nil, fmt.Errorf("text: %s has no usable texts in its %d class folders (%s)", root, len(classes), rep)
	}
	return c, rep, nil
}

// readText reads and tokenises one file. A bad file gives a reason to skip
// it; err is kept for failures that make the whole folder unreadable.
func readText(path string, opt FolderOptions) (toks []string, reason string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err.Error(), nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, opt.MaxBytes+1))
	if err != nil {
		return nil, err.Error(), nil
	}
	if int64(len(b)) > opt.MaxBytes {
		return nil, fmt.Sprintf("larger than %d bytes", opt.MaxBytes), nil
	}
	toks, reason = tokenizeText(b, opt.Tokenizer)
	return toks, reason, nil
}

// tokenizeText checks and tokenises one text, returning a reason when it
// is unusable.
func tokenizeText(b []byte, tok Tokenizer) ([]string, string) {
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	if !utf8.Valid(b) {
		return nil, fmt.Sprintf("not valid UTF-8 at byte %d", invalidAt(b))
	}
	toks := tok.Tokens(nil, strings.TrimSpace(string(b)))
	if len(toks) == 0 {
		return nil, "no tokens"
	}
	return toks, ""
}

// invalidAt returns the offset of the first invalid UTF-8 sequence in b.
func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}
