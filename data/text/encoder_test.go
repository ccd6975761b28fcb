package text

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testEncoder(t *testing.T, maxLen int) *Encoder {
	t.Helper()
	v, err := NewVocab([]string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	return &Encoder{Tokenizer: Tokenizer{Level: Char, Lower: true}, Vocab: v, MaxLen: maxLen}
}

func TestEncode(t *testing.T) {
	e := testEncoder(t, 4)
	tests := []struct {
		in      string
		want    []float32
		wantLen int
	}{
		{"abc", []float32{2, 3, 4, 0}, 3},
		{"ABC", []float32{2, 3, 4, 0}, 3},
		{"axb", []float32{2, 1, 3, 0}, 3},
		{"abcab", []float32{2, 3, 4, 2}, 4},
		{"aaaa", []float32{2, 2, 2, 2}, 4},
		{"", []float32{0, 0, 0, 0}, 1},
	}
	x := []float32{9, 9, 9, 9}
	for _, tc := range tests {
		n := e.Encode(tc.in, x)
		if n != tc.wantLen || !slices.Equal(x, tc.want) {
			t.Errorf("Encode(%q) = %v, %d; want %v, %d", tc.in, x, n, tc.want, tc.wantLen)
		}
		if tc.in != "" {
			if got := PaddedLengths(x, 4, nil); got[0] != n {
				t.Errorf("PaddedLengths(%v) = %v, Encode said %d", x, got, n)
			}
		}
	}
}

func TestEncoderSaveLoad(t *testing.T) {
	e := testEncoder(t, 7)
	path := filepath.Join(t.TempDir(), "encoder.json")
	if err := e.Save(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{`"format": "kiln-text-encoder"`, `"level": "char"`, `"lower": true`, `"max_len": 7`, `"<pad>"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("saved file lacks %s:\n%s", want, b)
		}
	}
	back, err := LoadEncoder(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Tokenizer != e.Tokenizer || back.MaxLen != 7 || !slices.Equal(back.Vocab.Tokens(), e.Vocab.Tokens()) {
		t.Errorf("loaded %+v, saved %+v", back, e)
	}
	x1, x2 := make([]float32, 7), make([]float32, 7)
	e.Encode("Cab z", x1)
	back.Encode("Cab z", x2)
	if !slices.Equal(x1, x2) {
		t.Errorf("loaded encoder gives %v, original %v", x2, x1)
	}
}

func TestEncoderErrors(t *testing.T) {
	good := `{"format":"kiln-text-encoder","version":1,"tokenizer":{"level":"char","lower":false},"max_len":3,"vocab":{"min_freq":1,"tokens":["<pad>","<unk>","a"]}}`
	if _, err := ParseEncoder([]byte(good)); err != nil {
		t.Fatalf("good file: %v", err)
	}
	tests := []struct{ old, new, want string }{
		{`"version":1`, `"version":2`, "version 2"},
		{`kiln-text-encoder`, `other`, `format "other"`},
		{`"max_len":3`, `"max_len":0`, "max length 0"},
		{`"max_len":3`, `"max_len":2000000`, "max length 2000000"},
		{`"level":"char"`, `"level":"bpe"`, `level "bpe"`},
		{`"lower":false`, `"lowercase":false`, "unknown field"},
		{`,"vocab":{"min_freq":1,"tokens":["<pad>","<unk>","a"]}`, ``, "no vocabulary"},
		{`"<unk>","a"`, `"<unk>","<unk>"`, `"<unk>" at 1 and 2`},
		{`}}`, `}} {}`, "after the JSON"},
	}
	for _, tc := range tests {
		s := strings.Replace(good, tc.old, tc.new, 1)
		if _, err := ParseEncoder([]byte(s)); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "text: ") {
			t.Errorf("%s: error %v, want one mentioning %q", s, err, tc.want)
		}
	}
	if _, err := LoadEncoder(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.HasPrefix(err.Error(), "text: encoder: open ") {
		t.Errorf("missing file: %v", err)
	}
	if err := (&Encoder{Tokenizer: Tokenizer{Level: Char}, MaxLen: 3}).Save(filepath.Join(t.TempDir(), "x.json")); err == nil {
		t.Error("saved an encoder without vocabulary")
	}
}
