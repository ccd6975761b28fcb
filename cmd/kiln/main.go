// Command kiln trains, evaluates and ships image classifiers.
//
//	kiln train [flags]      train a model (on the embedded Fashion-MNIST subset without --data)
//	kiln version            print the version
//
// Run "kiln help" or "kiln train -h" for details. This file only dispatches
// subcommands; it is the one place that calls os.Exit.
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

const usage = `kiln trains, evaluates and ships image classifiers. No Python, no cgo.

Usage:
  kiln train [flags]    train a model; without --data, on the embedded Fashion-MNIST subset
  kiln version          print the version (also: kiln --version)
  kiln help             show this help

Examples:
  kiln train                                   # 5 epochs of the seed CNN on Fashion-MNIST (4,000 images)
  kiln train --data ~/photos --epochs 20       # ~/photos/train/<class>/*.jpg and ~/photos/test/<class>/*.jpg
  kiln train --data ~/photos --augment randomcrop=32:4,hflip

Run "kiln train -h" for every training flag.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one kiln command and returns the process exit status: 0 on
// success, 1 when the command failed, 2 for a usage error, 130 when
// interrupted.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "train":
		err = trainCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
	case "help", "-h", "--help":
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
		fmt.Fprintf(stderr, "kiln %s: %v\n", args[0], err)
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
