package source

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
)

// FuzzTextDataFile feeds arbitrary files to the text readers: recognising
// a lines file, loading it for classification, and reading it as a
// language model's text and cutting it into windows. None may panic; a
// recognised lines file starts with a labelled line; a language model's
// text is read exactly when it is UTF-8, and comes back without CRLF line
// ends.
func FuzzTextDataFile(f *testing.F) {
	f.Add([]byte("en\tcat\nde\tKatze\nen\tdog\nde\tHund\n"))
	f.Add([]byte("\uFEFF\n\nfr\tchat\r\nfr\t\nxx\n"))
	f.Add([]byte("In the beginning God created the heaven and the earth.\r\n"))
	f.Add([]byte("\tno label\n"))
	f.Add([]byte("a\tb\xff\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "data.txt")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := DetectSource(path)
		if err == nil {
			first := ""
			for _, l := range strings.Split(string(bytes.TrimPrefix(b, []byte("\uFEFF"))), "\n") {
				if strings.TrimSpace(l) != "" {
					first = l
					break
				}
			}
			if src.Format != FormatTextLines || strings.Index(first, "\t") < 1 {
				t.Fatalf("%q recognised as %s", b, src.Format)
			}
			cfg := run.DefaultConfig()
			cfg.Data, cfg.Model, cfg.ValSplit, cfg.TestSplit = path, "lstm-classifier", 0, 0
			if ds, err := LoadDatasets(cfg, nil); err == nil {
				x := make([]float32, ds.Shape[0])
				for i := range ds.Train.Len() {
					if _, err := ds.Train.Get(i, x, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		s, _, err := readLMText(path)
		valid := utf8.Valid(bytes.TrimPrefix(b, []byte("\uFEFF")))
		if (err == nil) != valid || strings.Contains(s, "\r\n") {
			t.Fatalf("%q: read %q, %v (valid UTF-8: %v)", b, s, err, valid)
		}
		cfg := run.DefaultConfig()
		cfg.Data, cfg.Task, cfg.Model, cfg.SeqLen, cfg.ValSplit, cfg.TestSplit = path, run.TaskLM, models.CharLMName, 3, 0.2, 0.2
		if ds, err := LoadDatasets(cfg, nil); err == nil {
			x := make([]float32, 4)
			for _, d := range []interface{ Len() int }{ds.Train, ds.Val, ds.Test} {
				w := d.(*LMWindows)
				for i := range w.Len() {
					if _, err := w.Get(i, x, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}
