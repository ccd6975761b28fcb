package text

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzTokens checks the tokenisers' invariants on any bytes: every token
// is non-empty valid UTF-8, the tokens joined give back the cleaned text
// (less white space at word level), word tokens are single characters or
// runs of word characters, and a text's tokens never depend on what follows
// a white space boundary.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"", "Hello, World!", "Don't stop—2 times!", "cafe\u0301 naïve", "日本語 です。", "a\xffb\xfe\xfd", "İSTANBUL ǅ ß", " \t\n\r\u00a0\u2028", "x_y-z'w"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, lower bool) {
		clean := strings.ToValidUTF8(s, "\uFFFD")
		if lower {
			clean = strings.ToLower(clean)
		}
		chars := Tokenizer{Level: Char, Lower: lower}.Tokens(nil, s)
		if strings.Join(chars, "") != clean || len(chars) != utf8.RuneCountInString(clean) {
			t.Fatalf("char tokens %q do not rebuild %q", chars, clean)
		}
		words := Tokenizer{Level: Word, Lower: lower}.Tokens(nil, s)
		noSpace := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, clean)
		if strings.Join(words, "") != noSpace {
			t.Fatalf("word tokens %q do not rebuild %q", words, noSpace)
		}
		for _, w := range words {
			if w == "" || !utf8.ValidString(w) {
				t.Fatalf("bad token %q", w)
			}
			runes := []rune(w)
			if len(runes) > 1 {
				for _, r := range runes {
					if !isWordRune(r) {
						t.Fatalf("token %q mixes a non-word character %q", w, r)
					}
				}
			} else if unicode.IsSpace(runes[0]) {
				t.Fatalf("white space token %q", w)
			}
		}
		// Tokenising the space-separated halves gives the same tokens as
		// the whole.
		if i := strings.IndexFunc(clean, unicode.IsSpace); i >= 0 {
			_, n := utf8.DecodeRuneInString(clean[i:])
			a := Tokenizer{Level: Word}.Tokens(nil, clean[:i])
			b := Tokenizer{Level: Word}.Tokens(a, clean[i+n:])
			if !slices.Equal(b, Tokenizer{Level: Word}.Tokens(nil, clean)) {
				t.Fatalf("split at a space: %q, whole: %q", b, words)
			}
		}
	})
}

// FuzzParseEncoder checks that no input crashes the encoder and vocabulary
// loader, and that whatever loads is valid, saves, and loads back equal.
func FuzzParseEncoder(f *testing.F) {
	f.Add([]byte(`{"format":"kiln-text-encoder","version":1,"tokenizer":{"level":"char","lower":false},"max_len":3,"vocab":{"min_freq":1,"tokens":["<pad>","<unk>","a"]}}`))
	f.Add([]byte(`{"format":"kiln-text-encoder","version":1,"tokenizer":{"level":"word","lower":true},"max_len":64,"vocab":{"min_freq":2,"tokens":["<pad>","<unk>","the","\u00e9t\u00e9","\\",","]}}`))
	f.Add([]byte(`{"format":"kiln-text-encoder","version":1,"tokenizer":{"level":"char"},"max_len":1,"vocab":{"min_freq":1,"tokens":["<pad>","<unk>","<pad>"]}}`))
	f.Add([]byte(`{"vocab":null}`))
	f.Add([]byte(`{"format":"kiln-text-encoder","version":1,"max_len":-5}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEncoder(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "text: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if e.Validate() != nil || e.Vocab.Len() < 2 || e.Vocab.Token(Pad) != PadToken || e.Vocab.Token(Unk) != UnkToken {
			t.Fatalf("loaded an invalid encoder %+v", e)
		}
		for id, tok := range e.Vocab.Tokens() {
			if e.Vocab.ID(tok) != id {
				t.Fatalf("token %q has id %d, listed at %d", tok, e.Vocab.ID(tok), id)
			}
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseEncoder(out)
		if err != nil {
			t.Fatalf("saved encoder does not load: %v\n%s", err, out)
		}
		out2, _ := json.Marshal(back)
		if !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the encoder:\n%s\n%s", out, out2)
		}
		x := make([]float32, min(e.MaxLen, 64))
		if e.MaxLen <= 64 {
			if n := e.Encode("some text", x); n < 1 || n > e.MaxLen {
				t.Fatalf("length %d", n)
			}
		}
	})
}

// FuzzParseLines checks that no input crashes the lines reader and that a
// corpus it returns is consistent.
func FuzzParseLines(f *testing.F) {
	f.Add([]byte("en\thello\nde\thallo welt\n"), false)
	f.Add([]byte("\uFEFFa\tx\r\n\n\tb\n"), true)
	f.Add([]byte("a\t\xff\nb\tok"), false)
	f.Add([]byte("no tab"), true)
	f.Fuzz(func(t *testing.T, b []byte, word bool) {
		tok := Tokenizer{Level: Char}
		if word {
			tok.Level = Word
		}
		c, rep, err := ParseLines(bytes.NewReader(b), "f", LinesOptions{Tokenizer: tok, MaxBytes: 1 << 12})
		if err != nil {
			return
		}
		if err := c.check(); err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(c.Classes) || len(c.Classes) == 0 || rep.Kept != len(c.Docs) || rep.Kept+len(rep.Skipped) != rep.Found {
			t.Fatalf("inconsistent corpus: classes %q, report %+v, %d texts", c.Classes, rep, len(c.Docs))
		}
		v, err := BuildVocab(c, nil, VocabOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ds, err := NewDataset(c, &Encoder{Tokenizer: tok, Vocab: v, MaxLen: 8})
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 8)
		for i := range ds.Len() {
			if _, err := ds.Get(i, x, nil); err != nil {
				t.Fatal(err)
			}
			if l := PaddedLengths(x, 8, nil)[0]; l != ds.Length(i) || slices.Contains(x[:l], Pad) {
				t.Fatalf("text %d: row %v, length %d, PaddedLengths %d", i, x, ds.Length(i), l)
			}
		}
	})
}
