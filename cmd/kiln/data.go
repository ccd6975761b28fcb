package main

// This file holds "kiln data" and its "fetch" subcommand. It leaves out
// the statistics report (datastats.go) and listing what is cached.

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/data/fetch"
)

const dataHead = `Usage: kiln data fetch NAME [--cache DIR] [--mirror URL]
       kiln data stats DIR [--json]

Subcommands:
  fetch NAME   download a standard dataset (` + "%s" + `) into the cache,
               verify its SHA-256 sums, and print the folder that holds it
  stats DIR    a preprocessing report of a data folder: class balance,
               per-channel mean and std, duplicate files, skipped files

Run "kiln data fetch -h" or "kiln data stats -h" for their flags.
`

func dataCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	head := fmt.Sprintf(dataHead, strings.Join(fetch.Names(), ", "))
	if len(args) == 0 {
		return usageError{fmt.Errorf("missing a subcommand: fetch or stats")}
	}
	switch args[0] {
	case "fetch":
		return fetchCmd(ctx, args[1:], stdout, stderr)
	case "stats":
		return statsCmd(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, head)
		return nil
	}
	return usageError{fmt.Errorf("unknown subcommand %q: want fetch or stats", args[0])}
}

const fetchHead = `Usage: kiln data fetch NAME [--cache DIR] [--mirror URL] [--retries N]

Downloads the dataset NAME (%s) into DIR/NAME, checks every file
against its registered SHA-256 sum, and prints the folder that holds the
data, ready for "kiln train --data". A file already in the cache is not
downloaded again; an interrupted download resumes where it stopped; a file
whose sum is wrong is deleted and reported. The cache is $%s, else the
user's cache folder (%s).

Examples:
  kiln data fetch fashion-mnist
  kiln train --data "$(kiln data fetch cifar10)" --epochs 20
`

func fetchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("data fetch")
	cache := fs.String("cache", "", "cache `folder` (default: $"+fetch.CacheEnv+", else the user's cache folder/kiln)")
	mirror := fs.String("mirror", "", "download from this base `URL` instead of the dataset's home (a mirror with the same file names)")
	retries := fs.Int("retries", 3, "retries of a file after a broken connection or a server error; each one resumes")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			def, derr := fetch.DefaultCacheDir()
			if derr != nil {
				def = "none"
			}
			printHelp(fs, fmt.Sprintf(fetchHead, strings.Join(fetch.Names(), ", "), fetch.CacheEnv, def), stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) == 0:
		return usageError{fmt.Errorf("missing the dataset name: one of %s", strings.Join(fetch.Names(), ", "))}
	case len(pos) > 1:
		return usageError{fmt.Errorf("unexpected argument %q: fetch takes one dataset name", pos[1])}
	case *retries < 0:
		return usageError{fmt.Errorf("--retries %d: want 0 or more", *retries)}
	}
	if _, ok := fetch.Lookup(pos[0]); !ok {
		return usageError{fmt.Errorf("unknown dataset %q: want one of %s", pos[0], strings.Join(fetch.Names(), ", "))}
	}
	bar := newFetchBar(stderr)
	dir, err := fetch.Fetch(ctx, pos[0], fetch.Options{CacheDir: *cache, BaseURL: *mirror, Retries: *retries, Progress: bar.update})
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, dir)
	return nil
}

// fetchBar draws a download's progress on a terminal, one line redrawn in
// place; elsewhere it draws nothing, so that scripts read only the folder.
type fetchBar struct {
	w     io.Writer
	tty   bool
	last  time.Time
	drawn bool
}

func newFetchBar(w io.Writer) *fetchBar {
	b := &fetchBar{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

func (b *fetchBar) update(p fetch.Progress) {
	if !b.tty || (time.Since(b.last) < 100*time.Millisecond && p.Done != p.Total) {
		return
	}
	b.last = time.Now()
	fmt.Fprint(b.w, "\r\033[K"+fetchLine(p))
	b.drawn = true
}

// fetchLine formats one file's progress.
func fetchLine(p fetch.Progress) string {
	const mb = 1 << 20
	if p.Total <= 0 {
		return fmt.Sprintf("%s: %s %.1f MB", p.Dataset, p.File, float64(p.Done)/mb)
	}
	const width = 24
	filled := int(width * min(p.Done, p.Total) / p.Total)
	return fmt.Sprintf("%s: %s [%s%s] %.1f/%.1f MB", p.Dataset, p.File, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		float64(p.Done)/mb, float64(p.Total)/mb)
}

func (b *fetchBar) done() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}
