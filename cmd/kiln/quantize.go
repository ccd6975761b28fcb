package main

// This file holds "kiln quantize": flags and wiring into package quantize,
// and the float32-against-int8 evaluation it prints. It leaves out the
// quantisation itself (quantize) and loading int8 models (predict:
// --checkpoint int8).

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/quantize"
	"github.com/kiln-ml/kiln/source"
)

const quantizeHead = `Usage: kiln quantize RUN [--calib DIR] [--images 500] [--no-eval]

Writes RUN/int8.safetensors: the run's best model with int8 weights (per
output channel) and int8 activations (per tensor, scaled from calibration
images), accumulated in int32. kiln eval, predict and serve use it with
--checkpoint int8. Calibration reads up to --images image files under DIR,
spread over the folder, decoded and transformed as the run's test images;
without --calib, the run's own training set (no augmentation). Then it evaluates float32 and int8 side by side on
the run's test set. Seed CNN, LeNet-5, MLP and ResNet runs can be quantised.
`

func quantizeCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("quantize")
	calib := fs.String("calib", "", "`folder` of calibration images (any layout; not the test set)")
	images := fs.Int("images", 500, "calibration images to use at most")
	noEval := fs.Bool("no-eval", false, "skip the float32 and int8 evaluation")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, quantizeHead, stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) != 1:
		return usageError{fmt.Errorf("want one run directory (kiln quantize RUN), got %d arguments", len(pos))}
	case *images < 1:
		return usageError{fmt.Errorf("--images %d: want at least 1", *images)}
	}
	dir := pos[0]
	out := filepath.Join(dir, quantize.File)
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; remove it to quantise again", out)
	}
	t, err := predict.LoadTrained(dir, "best")
	if err != nil {
		return err
	}
	shape := t.Info.InputShape
	var x []float32
	var n int
	switch {
	case *calib != "":
		x, n, err = quantize.Images(*calib, *images, shape, t.Info.Transform)
	case t.Info.Imported != "":
		return usageError{fmt.Errorf("--calib: %s was imported without data; name a folder of calibration images", dir)}
	default:
		x, n, err = trainingCalibration(t, *images)
	}
	if err != nil {
		return err
	}
	q, err := quantize.Quantize(t.Model(), shape, x, n)
	if err != nil {
		return err
	}
	if err := q.Save(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: int8 %s from %s, calibrated on %d images\n", out, t.Info.Model, t.Checkpoint, n)
	if *noEval {
		return nil
	}
	return compareInt8(ctx, dir, stdout)
}

// trainingCalibration returns up to n examples of the run's own training
// set (its data loaded as in training, without random augmentation),
// spread over it.
func trainingCalibration(t *predict.Trained, n int) ([]float32, int, error) {
	ds, err := source.LoadDatasets(t.Config, io.Discard)
	if err != nil {
		return nil, 0, fmt.Errorf("--calib: the run's training data: %w", err)
	}
	shape := t.Info.InputShape
	if got := fmt.Sprint(ds.Shape); got != fmt.Sprint(shape) {
		return nil, 0, fmt.Errorf("--calib: the run's data give examples of %s, the model takes %v; name calibration images with --calib", got, shape)
	}
	size := shapeSize(shape)
	n = min(n, ds.Train.Len())
	x := make([]float32, n*size)
	for i := range n {
		if _, err := ds.Train.Get(i*ds.Train.Len()/n, x[i*size:(i+1)*size], nil); err != nil {
			return nil, 0, err
		}
	}
	return x, n, nil
}

// compareInt8 evaluates the run's float32 and int8 models on its test set
// and prints both accuracies and times.
func compareInt8(ctx context.Context, dir string, stdout io.Writer) error {
	for _, which := range []string{"best", "int8"} {
		m, err := predict.LoadTrained(dir, which)
		if err != nil {
			return err
		}
		start := time.Now()
		r, what, err := m.Evaluate(ctx, "", runtime.GOMAXPROCS(0), io.Discard)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-5s %-40s accuracy %.2f%% (%d images of %s), loss %.4f, %.2fs\n", which, filepath.Base(m.Checkpoint), 100*r.Accuracy,
			r.Confusion.Total(), what, r.Loss, time.Since(start).Seconds())
	}
	return nil
}

// shapeSize returns the values of one example of shape s.
func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
