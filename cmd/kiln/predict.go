package main

// This file holds "kiln predict". It leaves out reading images from
// standard input and URLs.

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/kiln-ml/kiln/train"
)

const predictHead = `Usage: kiln predict RUN IMAGE... [--top-k K] [--json] [--checkpoint best|last|FILE]

Prints the K most likely classes of each image with their probabilities.
Images are decoded (JPEG, PNG, GIF, BMP, TIFF, WebP, PGM/PPM), converted to
the run's channels and resized to its input size, as in training.
`

// imageResult is one image's --json output.
type imageResult struct {
	File        string             `json:"file"`
	Predictions []train.Prediction `json:"predictions,omitempty"`
	Error       string             `json:"error,omitempty"`
}

func predictCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("predict")
	topK := fs.Int("top-k", 3, "how many classes to print per image")
	asJSON := fs.Bool("json", false, "print the predictions as JSON")
	which := fs.String("checkpoint", "best", "weights to use: best, last, or a safetensors `file` of the same model")
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
	case len(pos) == 1:
		return usageError{fmt.Errorf("missing images to classify after the run directory %s", pos[0])}
	case *topK < 1:
		return usageError{fmt.Errorf("--top-k %d: want at least 1", *topK)}
	}
	m, err := train.LoadTrained(pos[0], *which)
	if err != nil {
		return err
	}
	var results []imageResult
	failed := 0
	for _, path := range pos[1:] {
		probs, err := m.PredictFile(path)
		if err != nil {
			failed++
			results = append(results, imageResult{File: path, Error: err.Error()})
			if !*asJSON {
				fmt.Fprintf(stderr, "kiln predict: %v\n", err)
			}
			continue
		}
		top := m.TopK(probs, *topK)
		results = append(results, imageResult{File: path, Predictions: top})
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
		return fmt.Errorf("%d of %d images could not be classified", failed, len(pos)-1)
	}
	return nil
}
