package text

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree creates files under root from a map of slash paths to contents.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, s := range files {
		path := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenFolder(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"spam/b.txt":         "Win MONEY now!\n",
		"spam/a.TXT":         "\uFEFFcheap pills",
		"spam/sub/c.txt":     "  click here  ",
		"spam/.hidden.txt":   "secret",
		"spam/notes.md":      "not a text file",
		"ham/x.txt":          "Meeting at 10.",
		"ham/bad.txt":        "caf\xe9 au lait", // Latin-1, not UTF-8
		"ham/empty.txt":      " \n\t",
		".git/objects/1.txt": "hidden folder",
		"README":             "loose file",
	})
	c, rep, err := OpenFolder(root, FolderOptions{Tokenizer: Tokenizer{Level: Word, Lower: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Classes, []string{"ham", "spam"}) {
		t.Errorf("classes %q", c.Classes)
	}
	var got []string
	for i, d := range c.Docs {
		rel, _ := filepath.Rel(root, c.Sources[i])
		got = append(got, filepath.ToSlash(rel)+"="+c.Classes[c.Labels[i]]+":"+strings.Join(d, "|"))
	}
	want := []string{
		"ham/x.txt=ham:meeting|at|10|.",
		"spam/a.TXT=spam:cheap|pills",
		"spam/b.txt=spam:win|money|now|!",
		"spam/sub/c.txt=spam:click|here",
	}
	if !slices.Equal(got, want) {
		t.Errorf("texts\n%q\nwant\n%q", got, want)
	}
	if rep.Classes != 2 || rep.Found != 6 || rep.Kept != 4 || rep.Ignored != 2 || rep.Hidden != 2 || len(rep.Skipped) != 2 {
		t.Errorf("report %+v", rep)
	}
	s := rep.String()
	for _, w := range []string{"kept 4 of 6 texts", "bad.txt (not valid UTF-8 at byte 3)", "empty.txt (no tokens)", "ignored 2 other files and 2 hidden"} {
		if !strings.Contains(s, w) {
			t.Errorf("report %q lacks %q", s, w)
		}
	}
	if c.MaxTokens() != 4 || c.LengthQuantile(0.5) != 2 || c.LengthQuantile(0.75) != 4 || c.LengthQuantile(1) != 4 || c.LengthQuantile(0) != 2 {
		t.Errorf("max tokens %d, quantiles %d %d %d %d", c.MaxTokens(), c.LengthQuantile(0), c.LengthQuantile(0.5), c.LengthQuantile(0.75), c.LengthQuantile(1))
	}
}

func TestOpenFolderErrors(t *testing.T) {
	tok := Tokenizer{Level: Char}
	tests := []struct {
		name  string
		files map[string]string
		opt   FolderOptions
		want  string
	}{
		{"no class folders", map[string]string{"a.txt": "x"}, FolderOptions{Tokenizer: tok}, "has no class folders"},
		{"empty class", map[string]string{"a/x.txt": "x", "b/y.md": "y"}, FolderOptions{Tokenizer: tok}, "b has no text files (extensions .txt)"},
		{"class of bad files", map[string]string{"a/x.txt": "x", "b/y.txt": "\xff"}, FolderOptions{Tokenizer: tok}, "b has no usable texts among its 1 files"},
		{"strict", map[string]string{"a/x.txt": "x", "a/y.txt": "\xff"}, FolderOptions{Tokenizer: tok, Strict: true}, "y.txt: not valid UTF-8 at byte 0"},
		{"too large, strict", map[string]string{"a/x.txt": "12345"}, FolderOptions{Tokenizer: tok, Strict: true, MaxBytes: 4}, "larger than 4 bytes"},
		{"nothing usable", map[string]string{"a/x.txt": ""}, FolderOptions{Tokenizer: tok, AllowEmpty: true}, "has no usable texts in its 1 class folders"},
		{"bad tokenizer", map[string]string{"a/x.txt": "x"}, FolderOptions{}, "tokenizer level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			_, _, err := OpenFolder(root, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "text: ") {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, _, err := OpenFolder(filepath.Join(t.TempDir(), "missing"), FolderOptions{Tokenizer: tok}); err == nil || !strings.Contains(err.Error(), "text: root open") {
		t.Errorf("missing root: %v", err)
	}
}

func TestOpenFolderAllowEmptyAndExtensions(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a/x.md": "hello", "b/y.txt": "skip me", "c/z.TXT": "no"})
	c, _, err := OpenFolder(root, FolderOptions{Tokenizer: Tokenizer{Level: Char}, Extensions: []string{".md"}, AllowEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Classes, []string{"a", "b", "c"}) || len(c.Docs) != 1 || c.Labels[0] != 0 {
		t.Errorf("classes %q, %d texts, labels %v", c.Classes, len(c.Docs), c.Labels)
	}
}

func TestOpenFolderFollowsSymlinksOnce(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a/x.txt": "x", "shared/y.txt": "y"})
	if err := os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "a", "loop")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink(filepath.Join(root, "shared"), filepath.Join(root, "a", "s")); err != nil {
		t.Fatal(err)
	}
	c, _, err := OpenFolder(root, FolderOptions{Tokenizer: Tokenizer{Level: Char}})
	if err != nil {
		t.Fatal(err)
	}
	// Class a holds x and, through the link, y; class shared holds y.
	if len(c.Docs) != 3 || !slices.Equal(c.Labels, []int{0, 0, 1}) {
		t.Errorf("%d texts, labels %v, sources %q", len(c.Docs), c.Labels, c.Sources)
	}
}
