package main

// This file holds "kiln bench": kiln's speed on this machine. It leaves
// out the measuring (package bench) and comparisons with PyTorch, which
// are made by running both side by side.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/kiln-ml/kiln/bench"
)

const benchHead = `Usage: kiln bench [--json] [--images N]

Measures single-precision matrix multiplication (512x512x512, one thread)
against the core's measured FMA peak, and the seed CNN's training (batch
32, Adam) and inference (batch 256) throughput on random 3x32x32 images, as
seed_pytorch.py --synthetic does. Other work on the machine lowers the
figures.
`

func benchCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("bench")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	images := fs.Int("images", 2000, "images timed for each of training and inference")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, benchHead, stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Errorf("unexpected argument %q (bench takes only flags)", pos[0])}
	case *images < 1:
		return usageError{fmt.Errorf("--images %d: want at least 1", *images)}
	}
	r, err := bench.Run(ctx, bench.Options{Images: *images})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err = fmt.Fprint(stdout, r.String())
	return err
}
