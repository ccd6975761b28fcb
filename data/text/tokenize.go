package text

// This file holds the two tokenisers, characters and words. It leaves out
// Unicode normalisation (a decomposed "é" is two characters here, a
// composed one is one), subword tokenisers (BPE, WordPiece) and any
// language-specific rules (contractions, hyphenated compounds).

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Level is the unit a Tokenizer splits text into.
type Level string

// The levels.
const (
	// Char makes every Unicode code point a token, spaces and line breaks
	// included.
	Char Level = "char"
	// Word makes every maximal run of letters, decimal digits and combining
	// marks a token, and every other character that is not white space a
	// token of its own; white space separates tokens and is dropped. So
	// "Don't stop—2 times!" is "Don", "'", "t", "stop", "—", "2", "times", "!".
	Word Level = "word"
)

// ParseLevel returns the Level named s ("char" or "word"), as a command-line
// flag gives it.
func ParseLevel(s string) (Level, error) {
	switch l := Level(s); l {
	case Char, Word:
		return l, nil
	}
	return "", fmt.Errorf("text: tokenizer level %q, want %q or %q", s, Char, Word)
}

// Tokenizer splits text into tokens. Its zero value is invalid; set Level.
type Tokenizer struct {
	Level Level `json:"level"`
	// Lower lower-cases the text first (Unicode simple case mapping, as
	// strings.ToLower), so that "The" and "the" are one token.
	Lower bool `json:"lower"`
}

// Validate reports whether t has a known level.
func (t Tokenizer) Validate() error {
	_, err := ParseLevel(string(t.Level))
	return err
}

// String returns the level and ", lower" when lower-casing.
func (t Tokenizer) String() string {
	if t.Lower {
		return string(t.Level) + ", lower"
	}
	return string(t.Level)
}

// Tokens appends the tokens of s to dst and returns it. Invalid UTF-8 is
// replaced by U+FFFD first, so every token is valid UTF-8 and the tokens
// joined give back the (cleaned, lower-cased if Lower) text, less white
// space at word level. It panics on an invalid level.
func (t Tokenizer) Tokens(dst []string, s string) []string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	if t.Lower {
		s = strings.ToLower(s)
	}
	switch t.Level {
	case Char:
		for i, r := range s {
			dst = append(dst, s[i:i+utf8.RuneLen(r)])
		}
	case Word:
		dst = words(dst, s)
	default:
		panic(fmt.Sprintf("text: tokenizer level %q", t.Level))
	}
	return dst
}

// words splits valid UTF-8 s into word tokens. Tokens are substrings of s,
// so tokenising allocates only the slice.
func words(dst []string, s string) []string {
	start := -1 // start of the current word, or -1 outside one
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			dst = append(dst, s[start:i])
			start = -1
		}
		if !unicode.IsSpace(r) {
			dst = append(dst, s[i:i+utf8.RuneLen(r)])
		}
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
}

// isWordRune reports whether r belongs inside a word. Combining marks do,
// so that a decomposed accent stays with its letter.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
