package wordlist

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/text"
)

func TestParse(t *testing.T) {
	in := "Zebra\nzebra\ncat's\nA\nö\nSchön\nf\xf6r\xe5\n  Ahoj \nad hoc\nx2\nGrüße\n"
	got, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ahoj", "förå", "grüße", "schön", "zebra"}
	if !slices.Equal(got, want) {
		t.Errorf("words %q, want %q", got, want)
	}
}

// writeLists writes small lists under dir and returns them as Langs.
func writeLists(t *testing.T, dir string, lists map[string]string) []Lang {
	t.Helper()
	var out []Lang
	for _, name := range []string{"aa", "bb", "cc"} {
		s, ok := lists[name]
		if !ok {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, Lang{Name: name, Path: p, Package: "w" + name})
	}
	return out
}

func TestBuild(t *testing.T) {
	langs := writeLists(t, t.TempDir(), map[string]string{
		"aa": "one\ntwo\nthree\nshared\nfour\n",
		"bb": "uno\ndos\nShared\ntres\n",
		"cc": "eins\nzwei\ndrei\nSHARED\n",
	})
	words, err := Build(langs, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(words) != 9 {
		t.Fatalf("%d words", len(words))
	}
	own := map[string][]string{"aa": {"one", "two", "three", "four"}, "bb": {"uno", "dos", "tres"}, "cc": {"eins", "zwei", "drei"}}
	for i, w := range words {
		if w.Lang != langs[i/3].Name || !slices.Contains(own[w.Lang], w.Word) {
			t.Errorf("word %d: %+v", i, w)
		}
	}
	again, _ := Build(langs, 3, 7)
	if !slices.Equal(words, again) {
		t.Error("same seed, different words")
	}
	differ := false
	for seed := uint64(8); seed < 20 && !differ; seed++ {
		other, _ := Build(langs, 3, seed)
		differ = !slices.Equal(words[:3], other[:3])
	}
	if !differ {
		t.Error("the seed never changes the draw of aa's 3 of 4 words")
	}
	if _, err := Build(langs, 4, 7); err == nil || !strings.Contains(err.Error(), "3 words of its own, fewer than 4") {
		t.Errorf("too few words: %v", err)
	}
	missing := append(langs[:1:1], Lang{Name: "zz", Path: filepath.Join(t.TempDir(), "none"), Package: "wzz"})
	if _, err := Build(missing, 1, 7); err == nil || !strings.Contains(err.Error(), "install Debian's wzz") {
		t.Errorf("missing list: %v", err)
	}
}

func TestWritersMatchCorpus(t *testing.T) {
	words := []Word{{"fr", "été"}, {"en", "summer"}, {"fr", "hiver"}}
	tok := text.Tokenizer{Level: text.Char}
	want, err := Corpus(words, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(want.Classes, []string{"en", "fr"}) || !slices.Equal(want.Labels, []int{1, 0, 1}) || len(want.Docs[0]) != 3 {
		t.Fatalf("corpus %+v", want)
	}
	var buf bytes.Buffer
	if err := WriteLines(&buf, words); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "fr\tété\nen\tsummer\nfr\thiver\n" {
		t.Errorf("lines %q", buf.String())
	}
	got, _, err := text.ParseLines(&buf, "w", text.LinesOptions{Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Classes, want.Classes) || !slices.Equal(got.Labels, want.Labels) || !slices.EqualFunc(got.Docs, want.Docs, slices.Equal) {
		t.Errorf("lines read back as %+v", got)
	}
	dir := t.TempDir()
	if err := WriteFolder(dir, words); err != nil {
		t.Fatal(err)
	}
	f, _, err := text.OpenFolder(dir, text.FolderOptions{Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Classes, want.Classes) || f.Len() != 3 || strings.Join(f.Docs[1], "") != "hiver" {
		t.Errorf("folder read back as %+v", f)
	}
}

func TestFind(t *testing.T) {
	ls, err := Find("fr", "en")
	if err != nil || len(ls) != 2 || ls[0].Package != "wfrench" || ls[1].Path != "/usr/share/dict/american-english" {
		t.Errorf("Find: %+v, %v", ls, err)
	}
	if _, err := Find("xx"); err == nil || !strings.Contains(err.Error(), "known: da de en") {
		t.Errorf("unknown language: %v", err)
	}
	if !slices.IsSortedFunc(Debian, func(a, b Lang) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Debian is not sorted by name; Find relies on it")
	}
}
