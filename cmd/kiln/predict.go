package main

// This file holds "kiln predict". It leaves out reading images from
// standard input and URLs.

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/kiln-ml/kiln/predict"
)

const predictHead = `Usage: kiln predict RUN IMAGE... [--top-k K] [--json] [--checkpoint best|last|FILE] [--device D]
       kiln predict RUN [--text TEXT]... [FILE.txt...]     (text runs)

Prints the K most likely classes of each image with their probabilities.
Images are decoded (JPEG, PNG, GIF, BMP, TIFF, WebP, PGM/PPM), converted to
the run's channels and resized to its input size, as in training. A text
run classifies each --text and the text of each file (UTF-8), encoded with
the run's encoder.json as in training.
`

// imageResult is one image's --json output.
type imageResult struct {
	File        string               `json:"file,omitempty"`
	Text        string               `json:"text,omitempty"`
	Predictions []predict.Prediction `json:"predictions,omitempty"`
	Error       string               `json:"error,omitempty"`
}

func predictCmd(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("predict")
	topK := fs.Int("top-k", 3, "how many classes to print per image")
	asJSON := fs.Bool("json", false, "print the predictions as JSON")
	which := fs.String("checkpoint", "best", "weights to use: best, last, or a safetensors `file` of the same model")
	var texts stringList
	fs.Var(&texts, "text", "a `text` to classify, for text runs (repeat the flag for more)")
	dev := addDeviceFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, predictHead, stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) == 0:
		return usageError{fmt.Errorf("missing the run directory and images (kiln predict RUN IMAGE...)")}
	case len(pos) == 1 && len(texts) == 0:
		return usageError{fmt.Errorf("missing images (or, for a text run, --text or text files) to classify after the run directory %s", pos[0])}
	case *topK < 1:
		return usageError{fmt.Errorf("--top-k %d: want at least 1", *topK)}
	}
	b, err := dev.open()
	if err != nil {
		return err
	}
	defer closeDevice(b, &err)
	m, err := predict.LoadTrained(pos[0], *which)
	if err != nil {
		return err
	}
	if b != nil {
		if err := m.UseDevice(b); err != nil {
			return fmt.Errorf("--device %s: %w", dev.name, err)
		}
		defer m.Close() // before the backend closes
	}
	if len(texts) > 0 && !m.IsText() {
		return usageError{fmt.Errorf("--text: %s is an image model (%s); give it images", pos[0], m.Info.Model)}
	}
	var results []imageResult
	failed := 0
	for _, item := range predictItems(texts, pos[1:]) {
		path := item.label
		var probs []float64
		var err error
		if item.text != nil {
			probs, err = m.PredictText(*item.text)
		} else {
			probs, err = m.PredictFile(item.file)
		}
		if err != nil {
			failed++
			results = append(results, imageResult{File: item.file, Text: item.textValue(), Error: err.Error()})
			if !*asJSON {
				fmt.Fprintf(stderr, "kiln predict: %v\n", err)
			}
			continue
		}
		top := m.TopK(probs, *topK)
		results = append(results, imageResult{File: item.file, Text: item.textValue(), Predictions: top})
		if !*asJSON {
			fmt.Fprintln(stdout, path)
			for i, p := range top {
				fmt.Fprintf(stdout, "  %d. %-20s %6.2f%%\n", i+1, p.Class, 100*p.Probability)
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	}
	if failed > 0 {
		unit := "images"
		if m.IsText() {
			unit = "texts"
		}
		return fmt.Errorf("%d of %d %s could not be classified", failed, len(pos)-1+len(texts), unit)
	}
	return nil
}
