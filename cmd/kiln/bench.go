package main

// This file holds "kiln bench": kiln's speed on this machine. It leaves
// out the measuring (package bench) and comparisons with PyTorch, which
// are made by running both side by side.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/bench"
)

const benchHead = `Usage: kiln bench [--json] [--images N] [--threads 1,2,...] [--train-batch 32] [--infer-batch 256]
       kiln bench --device cpu-backend|cuda [--json] [--images N] [--train-batch 32] [--infer-batch 256]
       kiln bench --data DIR [--workers N] [--batch-size 32] [--image-size 32] [--json]

Measures single-precision matrix multiplication (512x512x512, one thread)
against the core's measured FMA peak, and the seed CNN's training (batch
32, Adam) and inference (batch 256) throughput on random 3x32x32 images, as
seed_pytorch.py --synthetic does, and the latency of inference at
batches 1 and 8. It names the CPU's microarchitecture and the width of its
FMA units, measured (512-bit FMAs at twice the 256-bit rate mean full-width
units). With --threads, it also prints a table of training and inference
throughput on each thread count. Other work on the machine lowers the
figures.

With --device, it times the same training and inference (and latency) on
that device, through the device path: each step ends with its loss, each
inference with its logits copied back. SGEMM and the FMA peak are left out.

With --data, it times instead one shuffled epoch of the input pipeline on an
image folder: decoding, Resize((size, size)) and ToTensor through the
loader with the given number of workers, the pipeline of seed_pytorch.py's
ImageFolder + DataLoader (bench/loader_compare.py is its torchvision side).
`

func benchCmd(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := newFlagSet("bench")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	images := fs.Int("images", 2000, "images timed for each of training and inference")
	dir := fs.String("data", "", "time the input pipeline on this image `folder` instead")
	workers := fs.Int("workers", 2, "with --data: decoding goroutines")
	batch := fs.Int("batch-size", 32, "with --data: images per batch")
	size := fs.Int("image-size", 32, "with --data: images are resized to this square size")
	threads := fs.String("threads", "", "also measure training and inference on each of these comma-separated thread `counts` (e.g. 1,2,4)")
	trainBatch := fs.Int("train-batch", 32, "the seed CNN's training batch")
	inferBatch := fs.Int("infer-batch", 256, "the seed CNN's inference batch")
	dev := fs.String("device", "cpu", "where the seed CNN runs: cpu (default: the engine, with SGEMM and the FMA peak), cpu-backend (the device path on the CPU) or cuda (an NVIDIA GPU: a kiln built with go build -tags cuda ./cmd/kiln)")
	tf32 := fs.Bool("tf32", false, tf32Usage)
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
	case *workers < 0 || *batch < 1 || *size < 1:
		return usageError{fmt.Errorf("--workers %d, --batch-size %d, --image-size %d: want workers >= 0, the others >= 1", *workers, *batch, *size)}
	case *trainBatch < 1 || *inferBatch < 1:
		return usageError{fmt.Errorf("--train-batch %d, --infer-batch %d: want at least 1", *trainBatch, *inferBatch)}
	case *dev != "cpu" && (*dir != "" || *threads != ""):
		return usageError{fmt.Errorf("--device %s: --data and --threads time the CPU; leave them out", *dev)}
	}
	o := bench.Options{Images: *images, TrainBatch: *trainBatch, InferBatch: *inferBatch}
	if *dev != "cpu" || *tf32 {
		b, err := openDeviceName(*dev, *tf32)
		if err != nil {
			return err
		}
		defer closeDevice(b, &err)
		r, err := bench.RunOn(ctx, b, o)
		if err != nil {
			return err
		}
		r.Device = *dev // cpu-backend, not the backend's own name cpu
		if *tf32 {
			r.Device += " (tf32)"
		}
		if *asJSON {
			return writeJSON(stdout, r)
		}
		_, err = fmt.Fprint(stdout, r.String())
		return err
	}
	if *dir != "" {
		r, err := bench.Loader(ctx, *dir, *size, *workers, *batch)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, r)
		}
		_, err = fmt.Fprintf(stdout, "input pipeline on %s (%s, %d workers, batch %d): %d images in %.2f s = %.0f images/s\n",
			r.Dir, r.Transform, r.Workers, r.Batch, r.Decoded, r.Seconds, r.ImgPerS)
		return err
	}
	var counts []int
	if *threads != "" {
		for _, f := range strings.Split(*threads, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return usageError{fmt.Errorf("--threads %q: want comma-separated thread counts of at least 1, such as 1,2,4", *threads)}
			}
			counts = append(counts, n)
		}
	}
	o.Threads = counts
	r, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	_, err = fmt.Fprint(stdout, r.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
