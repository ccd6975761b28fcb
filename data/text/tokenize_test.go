package text

import (
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		name string
		tok  Tokenizer
		in   string
		want []string
	}{
		{"char", Tokenizer{Level: Char}, "Ab c", []string{"A", "b", " ", "c"}},
		{"char lower", Tokenizer{Level: Char, Lower: true}, "ÉtÉ", []string{"é", "t", "é"}},
		{"char multibyte", Tokenizer{Level: Char}, "ß→日", []string{"ß", "→", "日"}},
		{"char invalid utf8", Tokenizer{Level: Char}, "a\xffb", []string{"a", "\uFFFD", "b"}},
		{"word doc example", Tokenizer{Level: Word}, "Don't stop—2 times!", []string{"Don", "'", "t", "stop", "—", "2", "times", "!"}},
		{"word lower", Tokenizer{Level: Word, Lower: true}, "The CAT, the cat.", []string{"the", "cat", ",", "the", "cat", "."}},
		{"word digits join letters", Tokenizer{Level: Word}, "abc123 x2", []string{"abc123", "x2"}},
		{"word unicode letters", Tokenizer{Level: Word}, "Größe über  café\tnaïve", []string{"Größe", "über", "café", "naïve"}},
		{"word combining mark", Tokenizer{Level: Word}, "cafe\u0301!", []string{"cafe\u0301", "!"}},
		{"word cjk", Tokenizer{Level: Word}, "日本語 です。", []string{"日本語", "です", "。"}},
		{"word only spaces", Tokenizer{Level: Word}, " \n\t ", nil},
		{"word punctuation run", Tokenizer{Level: Word}, "...", []string{".", ".", "."}},
		{"word underscore is punctuation", Tokenizer{Level: Word}, "a_b", []string{"a", "_", "b"}},
		{"word invalid utf8", Tokenizer{Level: Word}, "ab\xff\xfecd", []string{"ab", "\uFFFD", "cd"}},
		{"empty", Tokenizer{Level: Char}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.tok.Tokens(nil, tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTokensAppends(t *testing.T) {
	got := Tokenizer{Level: Word}.Tokens([]string{"x"}, "a b")
	if !slices.Equal(got, []string{"x", "a", "b"}) {
		t.Errorf("got %q", got)
	}
}

func TestParseLevel(t *testing.T) {
	for _, s := range []string{"char", "word"} {
		if l, err := ParseLevel(s); err != nil || string(l) != s {
			t.Errorf("ParseLevel(%q) = %q, %v", s, l, err)
		}
	}
	for _, s := range []string{"", "Char", "bpe"} {
		if _, err := ParseLevel(s); err == nil {
			t.Errorf("ParseLevel(%q) accepted", s)
		}
	}
	if err := (Tokenizer{}).Validate(); err == nil {
		t.Error("zero Tokenizer validated")
	}
	if s := (Tokenizer{Level: Word, Lower: true}).String(); s != "word, lower" {
		t.Errorf("String() = %q", s)
	}
}

func TestTokensPanicsOnBadLevel(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Tokenizer{Level: "bpe"}.Tokens(nil, "x")
}
