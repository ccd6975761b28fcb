package source

// This file recognises text data: a text folder (class folders of .txt
// files, with or without train/ and test/) and a "label<TAB>text" lines
// file. It leaves out CSV and JSON-lines files, and the plain text a
// language model reads (lm_data.go), which needs no recognising.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-ml/kiln/data/text"
)

// The text formats DetectSource recognises.
const (
	FormatTextFolder Format = "textfolder" // DIR/<class>/**/*.txt, or DIR/train/<class>/... and DIR/test/<class>/...
	FormatTextLines  Format = "textlines"  // one file of "label<TAB>text" lines
)

// isText reports whether the source holds texts rather than images.
func (s *Source) IsText() bool {
	return s.Format == FormatTextFolder || s.Format == FormatTextLines
}

// linesProbe is how much of a file detectLinesFile reads.
const linesProbe = 64 << 10

// detectLinesFile recognises a regular file as a lines file: its first
// line that is not blank, within the first 64 KiB, holds a TAB after a
// label.
func detectLinesFile(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), linesProbe)
	for sc.Scan() {
		line := bytes.TrimPrefix(sc.Bytes(), []byte("\uFEFF"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if i := bytes.IndexByte(line, '\t'); i > 0 && len(bytes.TrimSpace(line[:i])) > 0 {
			return &Source{Dir: path, Root: path, Format: FormatTextLines}, nil
		}
		break
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("--data %s: %w", path, err)
	}
	return nil, fmt.Errorf("--data %s: a file, but not a lines file (want one \"label<TAB>text\" example per line); "+
		"a language model (--task lm) reads plain text files", path)
}

// errDecided stops isTextTree's walk.
var errDecided = errors.New("decided")

// isTextTree reports whether the class folders of dir hold texts: the first
// file with a text or an image extension found below dir's subfolders, in
// walk order and skipping hidden entries, decides. A folder of both is
// taken for images, whose loader then reports the text files it ignores.
func isTextTree(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() || filepath.Dir(path) == dir { // loose files in dir are no class's
			return nil
		}
		switch name := e.Name(); {
		case isImageName(name):
			return errDecided
		case hasTextExt(name):
			found = true
			return errDecided
		}
		return nil
	})
	return found
}

func hasTextExt(name string) bool {
	lower := strings.ToLower(name)
	for _, e := range text.Extensions {
		if strings.HasSuffix(lower, e) {
			return true
		}
	}
	return false
}
