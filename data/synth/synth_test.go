package synth

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestShapesDeterministicAndBalanced(t *testing.T) {
	s := New(60, 1, 20, 20, 7)
	a, b := make([]float32, 400), make([]float32, 400)
	counts := make([]int, len(Classes))
	for i := 0; i < s.Len(); i++ {
		la, _ := s.Get(i, a, nil)
		lb, _ := s.Get(i, b, nil)
		if la != lb || !slices.Equal(a, b) {
			t.Fatalf("image %d differs between calls", i)
		}
		counts[la]++
	}
	for c, n := range counts {
		if n != 10 {
			t.Errorf("class %s has %d images, want 10", Classes[c], n)
		}
	}
	if _, err := s.Get(60, a, nil); err == nil {
		t.Error("index past the end accepted")
	}
}

func TestWriteFolder(t *testing.T) {
	dir := t.TempDir()
	paths, err := WriteFolder(dir, 30, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	s := New(30, 1, 16, 16, 3)
	want := 0
	for _, y := range s.Labels() {
		if y < 2 {
			want++
		}
	}
	if len(paths) != want || want == 0 {
		t.Fatalf("%d files written, want %d", len(paths), want)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if b := img.Bounds(); b.Dx() != 16 || b.Dy() != 16 {
			t.Errorf("%s: %v", p, b)
		}
		if c := filepath.Base(filepath.Dir(p)); c != Classes[0] && c != Classes[1] {
			t.Errorf("%s: class folder %s, want one of the first two classes", p, c)
		}
	}
}

// TestWriteWords checks that the word files hold each class's letters only
// and that the lines file and the folder hold the same words.
func TestWriteWords(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "w.tsv")
	if err := WriteWordLines(lines, 30, 7); err != nil {
		t.Fatal(err)
	}
	if err := WriteWordTree(filepath.Join(dir, "tree"), 30, 7); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(lines)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(rows) != 30 {
		t.Fatalf("%d lines, want 30", len(rows))
	}
	for i, row := range rows {
		c, w, ok := strings.Cut(row, "\t")
		if !ok || strings.Trim(w, WordClasses[c]) != "" || len(w) < 3 {
			t.Errorf("line %d %q: want a word of class %q's letters", i, row, c)
		}
		f, err := os.ReadFile(filepath.Join(dir, "tree", c, fmt.Sprintf("%03d.txt", i)))
		if err != nil || string(f) != w+"\n" {
			t.Errorf("file %d: %q, %v; want %q", i, f, err, w)
		}
	}
}
