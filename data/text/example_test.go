package text_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/text"
)

// The whole pipeline on a lines file: load, split, vocabulary from the
// training split, encode, and read the lengths back from a padded row.
func Example() {
	in := "en\tthe cat\nen\ta dog\nfr\tle chat\nfr\tun chien\nen\tthe dog\nfr\tle chien\n"
	tok := text.Tokenizer{Level: text.Word, Lower: true}
	c, rep, err := text.ParseLines(strings.NewReader(in), "pets.tsv", text.LinesOptions{Tokenizer: tok})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep)
	parts, err := data.Split(c.Labels, []float64{2.0 / 3, 1.0 / 3}, rand.New(rand.NewPCG(1, 0)), true)
	if err != nil {
		panic(err)
	}
	v, err := text.BuildVocab(c, parts[0], text.VocabOptions{})
	if err != nil {
		panic(err)
	}
	enc := &text.Encoder{Tokenizer: tok, Vocab: v, MaxLen: 4}
	ds, err := text.NewDataset(c, enc)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", v.Tokens())
	x := make([]float32, 4)
	for _, i := range parts[1] {
		y, _ := ds.Get(i, x, nil)
		fmt.Println(c.Classes[y], c.Docs[i], x, "length", text.PaddedLengths(x, 4, nil)[0])
	}
	enc.Encode("The unknown cat", x)
	fmt.Println(x)
	// Output:
	// text: pets.tsv: 2 classes, kept 6 of 6 texts
	// ["<pad>" "<unk>" "a" "cat" "chat" "chien" "dog" "le" "the" "un"]
	// en [the dog] [8 6 0 0] length 2
	// fr [le chien] [7 5 0 0] length 2
	// [8 1 3 0]
}
