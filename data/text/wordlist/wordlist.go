// Package wordlist turns the word lists of Debian's dictionary packages
// (wamerican, wngerman, wfrench, ...; each installs /usr/share/dict/<name>)
// into a labelled corpus for language identification of single words: real
// data that nobody made up, small enough to train on in seconds.
//
// Each list is lower-cased, words with anything but letters (possessives
// like "cat's", abbreviations with dots, multi-word entries) and
// one-letter words are dropped, and a word found in more than one of the
// chosen lists is removed from all of them, since its language is
// ambiguous. A seed then draws the same number of words from every
// language, so chance level is 1/len(langs).
package wordlist

// This file leaves out word frequencies (every listed word counts once,
// rare or common) and any dictionary format but one word per line.

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kiln-ml/kiln/data/text"
)

// Lang is one language's word list.
type Lang struct {
	Name    string // the class name, e.g. "en"
	Path    string // the list, one word per line, UTF-8 or Latin-1
	Package string // the Debian package that installs it
}

// Debian lists the word lists this package knows, by ISO 639-1 code.
var Debian = []Lang{
	{"da", "/usr/share/dict/danish", "wdanish"},
	{"de", "/usr/share/dict/ngerman", "wngerman"},
	{"en", "/usr/share/dict/american-english", "wamerican"},
	{"es", "/usr/share/dict/spanish", "wspanish"},
	{"fr", "/usr/share/dict/french", "wfrench"},
	{"it", "/usr/share/dict/italian", "witalian"},
	{"nl", "/usr/share/dict/dutch", "wdutch"},
	{"no", "/usr/share/dict/bokmaal", "wnorwegian"},
	{"pl", "/usr/share/dict/polish", "wpolish"},
	{"pt", "/usr/share/dict/portuguese", "wportuguese"},
	{"sv", "/usr/share/dict/swedish", "wswedish"},
}

// Find returns the Debian entries named in names, in that order.
func Find(names ...string) ([]Lang, error) {
	var out []Lang
	for _, n := range names {
		i := sort.Search(len(Debian), func(i int) bool { return Debian[i].Name >= n })
		if i == len(Debian) || Debian[i].Name != n {
			var known []string
			for _, l := range Debian {
				known = append(known, l.Name)
			}
			return nil, fmt.Errorf("wordlist: unknown language %q (known: %s)", n, strings.Join(known, " "))
		}
		out = append(out, Debian[i])
	}
	return out, nil
}

// Installed returns the entries of langs whose file exists.
func Installed(langs []Lang) []Lang {
	var out []Lang
	for _, l := range langs {
		if st, err := os.Stat(l.Path); err == nil && !st.IsDir() {
			out = append(out, l)
		}
	}
	return out
}

// Read returns the distinct usable words of a list, lower-cased and sorted.
// Lines that are not valid UTF-8 are read as Latin-1, the encoding of
// Debian's Swedish and Norwegian lists.
func Read(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wordlist: %w", err)
	}
	defer f.Close()
	words, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("wordlist: %s: %w", path, err)
	}
	return words, nil
}

func parse(r io.Reader) ([]string, error) {
	var words []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		b := sc.Bytes()
		var w string
		if utf8.Valid(b) {
			w = string(b)
		} else {
			w = latin1(b)
		}
		w = strings.ToLower(strings.TrimSpace(w))
		if usable(w) {
			words = append(words, w)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.Sort(words)
	return slices.Compact(words), nil
}

func latin1(b []byte) string {
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// usable reports whether w is two or more letters and nothing else.
func usable(w string) bool {
	n := 0
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) {
			return false
		}
		n++
	}
	return n >= 2
}

// Word is one example: a word and its language.
type Word struct {
	Lang, Word string
}

// Build reads every list and draws perLang words from each, visiting the
// list in an order drawn from seed and the language's position and
// skipping words that another list also holds, so that the result depends
// only on the lists, their order, perLang and seed. It fails if a list has
// fewer than perLang words of its own. The words come grouped by language,
// in langs' order.
func Build(langs []Lang, perLang int, seed uint64) ([]Word, error) {
	if len(langs) < 2 || perLang < 1 {
		return nil, fmt.Errorf("wordlist: %d languages and %d words each, want at least 2 and 1", len(langs), perLang)
	}
	lists := make([][]string, len(langs))
	for i, l := range langs {
		words, err := Read(l.Path)
		if err != nil {
			return nil, fmt.Errorf("%w (install Debian's %s)", err, l.Package)
		}
		lists[i] = words
	}
	// shared reports whether list i's word w is in another list; only the
	// drawn words are checked, by binary search in the sorted lists.
	shared := func(i int, w string) bool {
		for j, other := range lists {
			if _, found := slices.BinarySearch(other, w); found && j != i {
				return true
			}
		}
		return false
	}
	var out []Word
	for i, l := range langs {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		took := 0
		for _, k := range rng.Perm(len(lists[i])) {
			if took == perLang {
				break
			}
			if w := lists[i][k]; !shared(i, w) {
				out = append(out, Word{l.Name, w})
				took++
			}
		}
		if took < perLang {
			return nil, fmt.Errorf("wordlist: %s has %d words of its own, fewer than %d", l.Path, took, perLang)
		}
	}
	return out, nil
}

// Corpus tokenises words into a text.Corpus with classes sorted by name, as
// text.ReadLines would give for the same words written by WriteLines.
func Corpus(words []Word, tok text.Tokenizer) (*text.Corpus, error) {
	if err := tok.Validate(); err != nil {
		return nil, err
	}
	c := &text.Corpus{Tokenizer: tok}
	index := map[string]int{}
	for _, w := range words {
		if _, ok := index[w.Lang]; !ok {
			index[w.Lang] = 0
			c.Classes = append(c.Classes, w.Lang)
		}
	}
	sort.Strings(c.Classes)
	for i, name := range c.Classes {
		index[name] = i
	}
	for _, w := range words {
		toks := tok.Tokens(nil, w.Word)
		if len(toks) == 0 {
			return nil, fmt.Errorf("wordlist: word %q gives no tokens", w.Word)
		}
		c.Docs = append(c.Docs, toks)
		c.Labels = append(c.Labels, index[w.Lang])
		c.Sources = append(c.Sources, w.Lang+":"+w.Word)
	}
	return c, nil
}

// WriteLines writes words as "lang<TAB>word" lines, text.ReadLines's format.
func WriteLines(w io.Writer, words []Word) error {
	bw := bufio.NewWriter(w)
	for _, x := range words {
		fmt.Fprintf(bw, "%s\t%s\n", x.Lang, x.Word)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("wordlist: %w", err)
	}
	return nil
}

// WriteFolder writes words as a text folder, dir/<lang>/<word>.txt holding
// the word, text.OpenFolder's layout. Words are distinct within a language,
// so their file names are too (letters only, no path separators).
func WriteFolder(dir string, words []Word) error {
	made := map[string]bool{}
	for _, x := range words {
		d := filepath.Join(dir, x.Lang)
		if !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("wordlist: %w", err)
			}
			made[d] = true
		}
		if err := os.WriteFile(filepath.Join(d, x.Word+".txt"), []byte(x.Word+"\n"), 0o644); err != nil {
			return fmt.Errorf("wordlist: %w", err)
		}
	}
	return nil
}
