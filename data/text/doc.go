// Package text holds kiln's text datasets: a folder of class folders of
// .txt files (TextFolder, after torchvision's ImageFolder) or one file of
// "label<TAB>text" lines, split into character or word tokens, numbered by
// a vocabulary built from the training split, and served as fixed-length
// sequences of token ids through the data.Dataset interface.
//
// The pipeline is
//
//	tok := text.Tokenizer{Level: text.Char, Lower: true}
//	c, rep, err := text.OpenFolder(root, text.FolderOptions{Tokenizer: tok})
//	parts, err := data.Split(c.Labels, []float64{0.8, 0.2}, rng, true)
//	v, err := text.BuildVocab(c, parts[0], text.VocabOptions{MinFreq: 2})
//	enc := &text.Encoder{Tokenizer: tok, Vocab: v, MaxLen: 32}
//	ds, err := text.NewDataset(c, enc)
//	train, err := data.NewSubset(ds, parts[0])
//
// and enc.Save writes the tokenizer, vocabulary and length to one JSON file
// that LoadEncoder reads back to encode new text the same way at prediction
// time.
//
// # The sequence contract
//
// A Dataset's examples have Shape [MaxLen]. Get writes the token ids of
// example i as float32 values (exact integers) into x: the first Length(i)
// entries are the text's tokens, truncated to MaxLen, and every entry after
// them is Pad (0). No token of a text is ever Pad, since the vocabulary
// reserves id 0 for padding and maps unknown tokens to Unk (1), so the true
// length of a padded row is one past its last non-zero entry. PaddedLengths
// recovers it from a batch alone, which is how a model or trainer gets the
// per-sequence lengths through any dataset wrapper (data.Subset, a
// relabelling); Dataset.Length gives the same number by index. Every length
// is at least 1: empty texts are skipped at load time, and an empty text
// encoded at prediction time becomes a single Pad.
package text
