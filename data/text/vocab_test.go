package text

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// corpusOf tokenises texts at char level, one class per text.
func corpusOf(texts ...string) *Corpus {
	c := &Corpus{Tokenizer: Tokenizer{Level: Char}}
	for i, s := range texts {
		c.Docs = append(c.Docs, c.Tokenizer.Tokens(nil, s))
		c.Labels = append(c.Labels, 0)
		c.Sources = append(c.Sources, "t"+string(rune('0'+i)))
	}
	c.Classes = []string{"only"}
	return c
}

func TestBuildVocab(t *testing.T) {
	c := corpusOf("aaab", "bbc", "cd", "zz")
	tests := []struct {
		name    string
		indices []int
		opt     VocabOptions
		want    []string
	}{
		{"all, frequency then bytes", nil, VocabOptions{}, []string{"a", "b", "c", "z", "d"}},
		{"min freq 2", nil, VocabOptions{MinFreq: 2}, []string{"a", "b", "c", "z"}},
		{"min freq 4", nil, VocabOptions{MinFreq: 4}, nil},
		{"max size", nil, VocabOptions{MaxSize: 4}, []string{"a", "b"}},
		{"max size 2 is reserved only", nil, VocabOptions{MaxSize: 2}, nil},
		{"training split only", []int{1, 2}, VocabOptions{}, []string{"b", "c", "d"}},
		{"repeated indices count twice", []int{2, 2, 3}, VocabOptions{MinFreq: 2}, []string{"c", "d", "z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := BuildVocab(c, tc.indices, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{PadToken, UnkToken}, tc.want...)
			if got := v.Tokens(); !slices.Equal(got, want) {
				t.Errorf("tokens %q, want %q", got, want)
			}
			if v.Len() != len(want) {
				t.Errorf("Len %d, want %d", v.Len(), len(want))
			}
			for id, tok := range want {
				if v.ID(tok) != id || v.Token(id) != tok {
					t.Errorf("ID(%q) = %d, Token(%d) = %q", tok, v.ID(tok), id, v.Token(id))
				}
			}
			if v.ID("never seen") != Unk {
				t.Error("unknown token not Unk")
			}
		})
	}
}

func TestBuildVocabErrors(t *testing.T) {
	c := corpusOf("ab")
	for _, tc := range []struct {
		indices []int
		opt     VocabOptions
		want    string
	}{
		{[]int{1}, VocabOptions{}, "index 1 outside"},
		{[]int{-1}, VocabOptions{}, "index -1 outside"},
		{nil, VocabOptions{MinFreq: -1}, "min frequency -1"},
		{nil, VocabOptions{MaxSize: 1}, "max size 1"},
	} {
		if _, err := BuildVocab(c, tc.indices, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %+v: error %v, want it to mention %q", tc.indices, tc.opt, err, tc.want)
		}
	}
}

func TestBuildVocabSkipsReservedStrings(t *testing.T) {
	c := &Corpus{Tokenizer: Tokenizer{Level: Word}, Classes: []string{"x"}, Docs: [][]string{{"<pad>", "<unk>", "a"}}, Labels: []int{0}}
	v, err := BuildVocab(c, nil, VocabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Tokens(); !slices.Equal(got, []string{PadToken, UnkToken, "a"}) {
		t.Errorf("tokens %q", got)
	}
}

func TestNewVocabRejects(t *testing.T) {
	for _, toks := range [][]string{{"a", "a"}, {""}, {"\xff"}, {PadToken}, {"b", UnkToken}} {
		if _, err := NewVocab(toks); err == nil {
			t.Errorf("NewVocab(%q) accepted", toks)
		}
	}
}

func TestVocabJSON(t *testing.T) {
	v, err := BuildVocab(corpusOf("héllo wörld", "\"quotes\" and \\"), nil, VocabOptions{MinFreq: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"min_freq":1,"tokens":["\u003cpad\u003e","\u003cunk\u003e"," ","l","\"","d","o","\\"`) {
		t.Errorf("JSON %s", b)
	}
	var back Vocab
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Tokens(), v.Tokens()) || back.MinFreq() != 1 {
		t.Errorf("round trip %q, want %q", back.Tokens(), v.Tokens())
	}
	for _, tok := range v.Tokens() {
		if back.ID(tok) != v.ID(tok) {
			t.Errorf("ID(%q) %d after round trip, was %d", tok, back.ID(tok), v.ID(tok))
		}
	}
}

func TestVocabUnmarshalRejects(t *testing.T) {
	for _, s := range []string{
		`{"min_freq":1,"tokens":["<unk>","<pad>","a"]}`,
		`{"min_freq":1,"tokens":["<pad>"]}`,
		`{"min_freq":1,"tokens":["<pad>","<unk>","a","a"]}`,
		`{"min_freq":1,"tokens":["<pad>","<unk>",""]}`,
		`{"min_freq":0,"tokens":["<pad>","<unk>"]}`,
		`{"min_freq":1,"tokens":"abc"}`,
		`[]`,
	} {
		var v Vocab
		if err := json.Unmarshal([]byte(s), &v); err == nil {
			t.Errorf("accepted %s", s)
		}
	}
}
