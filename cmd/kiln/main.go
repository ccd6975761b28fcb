// Command kiln trains, evaluates, exports and uses image models.
//
//	kiln train [flags]              train a classifier (on the embedded Fashion-MNIST subset without --data)
//	kiln train --task autoencode    train an autoencoder; write its reconstructions and features
//	kiln train --resume RUN         continue an interrupted run
//	kiln eval RUN [--data DIR]      test accuracy, per-class scores and confusion matrix
//	kiln predict RUN IMAGE...       the most likely classes of images
//	kiln export RUN                 the model as ONNX, or its weights as f16/bf16 safetensors
//	kiln import FILE --model NAME   PyTorch-trained weights into a run directory
//	kiln data fetch NAME            download MNIST, Fashion-MNIST or CIFAR-10
//	kiln data stats DIR             class balance, channel statistics, duplicates, bad files
//	kiln version                    print the version
//
// Run "kiln help" or "kiln <command> -h" for details. This file only
// dispatches commands; it is the one place that calls os.Exit.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=..."; module
// builds fall back to the module version.
var version = "devel"

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "devel" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "kiln " + v
}

const usage = `kiln trains, evaluates, exports and uses image models. No Python, no cgo.

Usage:
  kiln train [flags]              train a classifier; without --data, on the embedded Fashion-MNIST subset
  kiln train --task autoencode    train a convolutional autoencoder; labels not needed
  kiln train --resume RUN         continue a run that was interrupted (Ctrl-C) or killed
  kiln eval RUN [--data DIR]      evaluate a run's model: accuracy, per-class scores, confusion matrix
  kiln predict RUN IMAGE...       print the most likely classes of each image
  kiln export RUN                 write the model as ONNX, or its weights as safetensors in f16/bf16
  kiln import FILE --model NAME   turn PyTorch-trained safetensors weights into a run directory
  kiln data fetch NAME            download mnist, fashion-mnist or cifar10 (checksummed) and print its folder
  kiln data stats DIR             preprocessing report: class balance, channel mean/std, duplicates, bad files
  kiln version                    print the version (also: kiln --version)
  kiln help                       show this help

Data (--data DIR) is recognised by its files: image class folders
(DIR/train/<class>/*, DIR/test/<class>/*, or DIR/<class>/*), IDX files
(MNIST, Fashion-MNIST), or CIFAR-10/100 binary batches.

Examples:
  kiln train                                   # 5 epochs of the seed CNN on Fashion-MNIST (4,000 images)
  kiln train --data ~/photos --epochs 20       # ~/photos/train/<class>/*.jpg and ~/photos/test/<class>/*.jpg
  kiln train --data ~/photos --augment randomcrop=32:4,hflip --name photos-aug
  kiln train --data /usr/share/datasets/fashion-mnist --epochs 10 --name fashion
  kiln train --data "$(kiln data fetch cifar10)" --model resnet20 --augment randomcrop=32:4,hflip
  kiln train --task autoencode --model conv-dae --name dae
  kiln train --config settings.yaml --lr 3e-4  # settings from a file; flags win
  kiln eval runs/photos-aug --data ~/more-photos
  kiln predict runs/photos-aug cat.jpg dog.png --top-k 3
  kiln export runs/photos-aug                  # runs/photos-aug/model.onnx
  kiln import model.safetensors --model seed-cnn --shape 3,32,32 --classes cat,dog --out runs/torch
  kiln data stats ~/photos

A run directory (runs/<name>) holds the config, metrics (CSV, JSON lines,
TensorBoard), plots, checkpoints and the test report. Run "kiln <command> -h"
for every flag of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one kiln command and returns the process exit status: 0 on
// success, 1 when the command failed, 2 for a usage error, 130 when
// interrupted. The first Ctrl-C (or SIGTERM) asks training to stop after
// its current step and save its state; a second one kills the process at
// once, which the atomic checkpoint files survive.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default handling: the next signal kills
	}()
	return runContext(ctx, args, stdout, stderr)
}

// runContext is run with the context that signals cancel.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "train":
		err = trainCmd(ctx, args[1:], stdout, stderr)
	case "eval", "evaluate":
		err = evalCmd(ctx, args[1:], stdout, stderr)
	case "predict":
		err = predictCmd(args[1:], stdout, stderr)
	case "export":
		err = exportCmd(args[1:], stdout)
	case "import":
		err = importCmd(args[1:], stdout)
	case "data":
		err = dataCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "kiln: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		cmd := args[0]
		if cmd == "data" && len(args) > 1 && (args[1] == "fetch" || args[1] == "stats") {
			cmd += " " + args[1]
		}
		fmt.Fprintf(stderr, "kiln %s: %v\nRun \"kiln %s -h\" for help.\n", cmd, err, cmd)
		return 2
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "kiln: %v\n", err)
		return 130
	default:
		fmt.Fprintf(stderr, "kiln: %v\n", err)
		return 1
	}
}

// usageError marks a bad flag or argument: the exit status is 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
