package synth

// This file writes synthetic text data to disk, a lines file or a text
// folder, so that tests and demos can exercise the code that reads them.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// WordClasses are made-up languages, each with its own letters, so that a
// small recurrent classifier tells them apart within an epoch or two.
var WordClasses = map[string]string{"ab": "abn", "xyz": "xyzm", "q": "qom"}

// words returns n made-up words drawn with seed and their classes, the
// classes taking turns in the order ab, q, xyz.
func words(n int, seed uint64) (classes, words []string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	names := []string{"ab", "q", "xyz"}
	for i := range n {
		c := names[i%len(names)]
		letters := WordClasses[c]
		w := make([]byte, 3+rng.IntN(6))
		for j := range w {
			w[j] = letters[rng.IntN(len(letters))]
		}
		classes, words = append(classes, c), append(words, string(w))
	}
	return classes, words
}

// WriteWordLines writes n "class<TAB>word" lines of the made-up languages
// of WordClasses to path.
func WriteWordLines(path string, n int, seed uint64) error {
	classes, ws := words(n, seed)
	var b strings.Builder
	for i, w := range ws {
		fmt.Fprintf(&b, "%s\t%s\n", classes[i], w)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// WriteWordTree writes the words of WriteWordLines as a text folder, one
// word per file: dir/<class>/NNN.txt.
func WriteWordTree(dir string, n int, seed uint64) error {
	classes, ws := words(n, seed)
	for i, w := range ws {
		sub := filepath.Join(dir, classes[i])
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%03d.txt", i)), []byte(w+"\n"), 0o644); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	return nil
}
