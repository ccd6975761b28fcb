package main

// This file parses flags that come before, between or after positional
// arguments. It leaves out subcommand-specific checks.

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// newFlagSet returns a flag set that returns errors instead of printing
// them: a bad flag gets a one-line message naming it, not a page of help.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// printHelp prints head and the flags, for -h.
func printHelp(fs *flag.FlagSet, head string, w io.Writer) {
	fmt.Fprint(w, head, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseArgs parses flags wherever they appear among the arguments, as
// people type them ("kiln predict RUN cat.jpg --top-k 3"), and returns the
// positional arguments in order. Everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// isHelp reports whether err is the flag package's answer to -h.
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }
