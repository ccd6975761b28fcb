package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/data/text/wordlist"
)

func TestRun(t *testing.T) {
	langs, _ := wordlist.Find("en", "fr")
	if len(wordlist.Installed(langs)) != 2 {
		t.Skip("needs Debian's wamerican and wfrench")
	}
	dir := t.TempDir()
	lines := filepath.Join(dir, "w.tsv")
	if err := run([]string{"-langs", "en,fr", "-n", "20", "-seed", "3", "-out", lines}); err != nil {
		t.Fatal(err)
	}
	c, _, err := text.ReadLines(lines, text.LinesOptions{Tokenizer: text.Tokenizer{Level: text.Char}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 40 || strings.Join(c.Classes, ",") != "en,fr" {
		t.Errorf("%d words of classes %q", c.Len(), c.Classes)
	}
	folder := filepath.Join(dir, "words")
	if err := run([]string{"-langs", "en,fr", "-n", "20", "-seed", "3", "-format", "folder", "-out", folder}); err != nil {
		t.Fatal(err)
	}
	f, _, err := text.OpenFolder(folder, text.FolderOptions{Tokenizer: text.Tokenizer{Level: text.Char}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 40 {
		t.Errorf("folder of %d words", f.Len())
	}
	b, _ := os.ReadFile(lines)
	if first := strings.SplitN(string(b), "\n", 2)[0]; !strings.HasPrefix(first, "en\t") {
		t.Errorf("first line %q", first)
	}
	for _, args := range [][]string{{"-n", "5"}, {"-out", lines, "-langs", "xx"}, {"-out", lines, "-langs", "en,fr", "-format", "csv", "-n", "1"}} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
