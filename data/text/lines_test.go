package text

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseLines(t *testing.T) {
	in := "\uFEFFen\tHello, World\r\n" +
		"\n" +
		"  de \t Guten Tag \n" +
		"en\tcaf\xe9\n" + // Latin-1: skipped
		"fr\t   \n" + // no tokens: skipped
		"fr\tbonjour\tà tous\n" + // a TAB inside the text is white space
		"de\tTschüß"
	c, rep, err := ParseLines(strings.NewReader(in), "words.tsv", LinesOptions{Tokenizer: Tokenizer{Level: Word, Lower: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Classes, []string{"de", "en", "fr"}) {
		t.Errorf("classes %q", c.Classes)
	}
	var got []string
	for i, d := range c.Docs {
		got = append(got, c.Sources[i]+"="+c.Classes[c.Labels[i]]+":"+strings.Join(d, "|"))
	}
	want := []string{
		"words.tsv:1=en:hello|,|world",
		"words.tsv:3=de:guten|tag",
		"words.tsv:6=fr:bonjour|à|tous",
		"words.tsv:7=de:tschüß",
	}
	if !slices.Equal(got, want) {
		t.Errorf("texts\n%q\nwant\n%q", got, want)
	}
	if rep.Found != 6 || rep.Kept != 4 || len(rep.Skipped) != 2 || rep.Skipped[0].Source != "words.tsv:4" || rep.Skipped[1].Reason != "no tokens" {
		t.Errorf("report %+v", rep)
	}
}

func TestParseLinesErrors(t *testing.T) {
	tok := Tokenizer{Level: Char}
	tests := []struct {
		in   string
		opt  LinesOptions
		want string
	}{
		{"en\thi\nno tab here\n", LinesOptions{Tokenizer: tok}, `f:2: want "label<TAB>text"`},
		{"\thi\n", LinesOptions{Tokenizer: tok}, `f:1: want "label<TAB>text"`},
		{"en\t\xff\n", LinesOptions{Tokenizer: tok, Strict: true}, "f:1: not valid UTF-8"},
		{"\xff\tx\n", LinesOptions{Tokenizer: tok, Strict: true}, "f:1: label is not valid UTF-8"},
		{"en\t \n\n", LinesOptions{Tokenizer: tok}, "f has no usable"},
		{"", LinesOptions{Tokenizer: tok}, "f has no usable"},
		{"en\t123456789\n", LinesOptions{Tokenizer: tok, MaxBytes: 8}, "f:1: line longer than 8 bytes"},
		{"en\t" + strings.Repeat("x", 200<<10) + "\n", LinesOptions{Tokenizer: tok, MaxBytes: 100 << 10}, "longer than 102400 bytes"},
		{"en\tx\n", LinesOptions{}, "tokenizer level"},
	}
	for _, tc := range tests {
		_, _, err := ParseLines(strings.NewReader(tc.in), "f", tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "text: ") {
			t.Errorf("%.30q: error %v, want one mentioning %q", tc.in, err, tc.want)
		}
	}
}

func TestReadLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.tsv")
	if err := os.WriteFile(path, []byte("b\tone\na\ttwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := ReadLines(path, LinesOptions{Tokenizer: Tokenizer{Level: Word}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Labels, []int{1, 0}) || c.Sources[1] != path+":2" {
		t.Errorf("labels %v, sources %q", c.Labels, c.Sources)
	}
	if _, _, err := ReadLines(path+".missing", LinesOptions{Tokenizer: Tokenizer{Level: Word}}); err == nil || !strings.HasPrefix(err.Error(), "text: open ") {
		t.Errorf("missing file: %v", err)
	}
}
