package main

// This file holds the flags of "kiln data stats"; the report itself is
// package source's (source.Stats).

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/kiln-ml/kiln/source"
)

const statsHead = `Usage: kiln data stats DIR [--json] [--image-size N] [--channels 1|3]

Reports on a data folder (any --data that kiln train takes), split by
split: how many examples each class has, the per-channel mean and standard
deviation of the pixel values in [0, 1] (the numbers Normalize wants;
compute them on the training split), groups of identical files (by SHA-256
of their content; for IDX and CIFAR, of the pixels), and files
that could not be decoded. Last, it lists test examples that are copies of
training examples, which inflate a test score. Every image file is decoded.

Examples:
  kiln data stats ~/photos
  kiln data stats /usr/share/datasets/fashion-mnist --json
`

func statsCmd(args []string, stdout io.Writer) error {
	fs := newFlagSet("data stats")
	dataDir := fs.String("data", "", "the data `folder` (or give it as the argument)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	size := fs.Int("image-size", 32, "image files are resized to this square size, as kiln train does (0: keep their size, which must then be the same for all)")
	channels := fs.Int("channels", 3, "image files are decoded to 1 (grey) or 3 (RGB) channels")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "goroutines decoding and hashing files")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, statsHead, stdout)
			return nil
		}
		return usageError{err}
	}
	dir := *dataDir
	switch {
	case len(pos) > 0 && dir != "":
		return usageError{fmt.Errorf("unexpected argument %q: the folder is already given with --data", pos[0])}
	case len(pos) > 1:
		return usageError{fmt.Errorf("unexpected argument %q: stats takes one folder", pos[1])}
	case len(pos) == 1:
		dir = pos[0]
	case dir == "":
		return usageError{fmt.Errorf("missing the data folder (kiln data stats DIR)")}
	case *size < 0:
		return usageError{fmt.Errorf("--image-size %d: want 0 (keep) or more", *size)}
	}
	if *channels != 1 && *channels != 3 {
		return usageError{fmt.Errorf("--channels %d: want 1 (grey) or 3 (RGB)", *channels)}
	}
	rep, err := source.Stats(dir, *size, *channels, *workers)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(stdout)
}
