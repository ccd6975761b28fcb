package main

// This file holds "kiln eval". It leaves out writing files into the run
// directory: eval only reads a run, so that it can run on a copy or
// alongside training.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
)

const evalHead = `Usage: kiln eval RUN [--data DIR] [--checkpoint best|last|FILE] [--json] [--device cpu|cpu-backend|cuda]

Evaluates a run's model and prints the accuracy, the loss, each class's
precision, recall and F1, and the confusion matrix. DIR is a folder with a
test/ folder of class folders, or class folders itself; its classes are
matched to the run's by name, so it may hold only some of them. Without
--data, the run's own test set is used. The model and the image transform
are rebuilt from RUN/run.json.

Text runs take a text folder or a lines file, encoded with the run's
encoder.json; without --data, the texts the run held out for testing. A
language model (--task lm) reports its loss in bits per character on a text
file given with --data, or on the end of its text it held out.
`

// evalReport is eval's --json output.
type evalReport struct {
	Run        string             `json:"run"`
	Checkpoint string             `json:"checkpoint"`
	Data       string             `json:"data"`
	Images     int                `json:"images"`
	Accuracy   float64            `json:"accuracy"`
	Loss       float64            `json:"loss"`
	Classes    []train.ClassScore `json:"classes"`
	Confusion  [][]int            `json:"confusion"` // [true][predicted]
}

func evalCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("eval")
	data := fs.String("data", "", "`folder` to evaluate on (DIR/test/<class>/* or DIR/<class>/*); default: the run's test set")
	which := fs.String("checkpoint", "best", "weights to use: best, last, or a safetensors `file` of the same model")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "image decoding goroutines")
	dev := addDeviceFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, evalHead, stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) == 0:
		return usageError{fmt.Errorf("missing the run directory (kiln eval RUN)")}
	case len(pos) > 1:
		return usageError{fmt.Errorf("unexpected argument %q: eval takes one run directory", pos[1])}
	case *workers < 0:
		return usageError{fmt.Errorf("--workers %d: want 0 or more", *workers)}
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
	log := stderr
	if !*asJSON {
		log = stdout
	}
	r, what, err := m.Evaluate(ctx, *data, *workers, log)
	if err != nil {
		return err
	}
	if m.Info.Task == run.TaskLM {
		return printLMEval(stdout, pos[0], m, what, r, *asJSON)
	}
	c := r.Confusion
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(evalReport{Run: pos[0], Checkpoint: m.Checkpoint, Data: what, Images: c.Total(), Accuracy: r.Accuracy, Loss: r.Loss,
			Classes: c.Scores(), Confusion: c.Counts})
	}
	unit := "images"
	if m.IsText() {
		unit = "texts"
	}
	fmt.Fprintf(stdout, "%s (%s) on %s\nAccuracy: %.2f%% (%d %s), loss %.4f\n\n%s",
		m.Checkpoint, m.Info.Model, what, 100*r.Accuracy, c.Total(), unit, r.Loss, c.Report())
	return nil
}
