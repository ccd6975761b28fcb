// Command mkwords builds a language-identification dataset from Debian's
// word lists (see package wordlist): perLang words of each language, as a
// "lang<TAB>word" lines file or a text folder.
//
//	apt-get install wamerican wngerman wfrench wspanish witalian
//	go run ./data/text/internal/mkwords -langs en,de,fr,es,it -n 5000 -seed 1 -out words.tsv
//	go run ./data/text/internal/mkwords -langs en,de,fr -n 1000 -format folder -out words/
//
// The same flags give the same dataset on any machine with the same
// package versions.
package main

// This file leaves out train/validation splitting, which the trainer does
// (stratified, from its own seed).

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/kiln-ml/kiln/data/text/wordlist"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkwords:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkwords", flag.ContinueOnError)
	langs := fs.String("langs", "installed", "comma-separated language codes, or \"installed\" for every installed list")
	n := fs.Int("n", 5000, "words per language")
	seed := fs.Uint64("seed", 1, "seed of the draw")
	format := fs.String("format", "lines", "output format: lines (one file) or folder (one file per word)")
	out := fs.String("out", "", "output file (lines) or folder (folder)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("-out is required and no arguments are taken")
	}
	var ls []wordlist.Lang
	if *langs == "installed" {
		ls = wordlist.Installed(wordlist.Debian)
	} else {
		var err error
		if ls, err = wordlist.Find(strings.Split(*langs, ",")...); err != nil {
			return err
		}
	}
	words, err := wordlist.Build(ls, *n, *seed)
	if err != nil {
		return err
	}
	switch *format {
	case "lines":
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := wordlist.WriteLines(f, words); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	case "folder":
		if err := wordlist.WriteFolder(*out, words); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-format %q, want lines or folder", *format)
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	fmt.Printf("wrote %d words (%d each of %s) to %s\n", len(words), *n, strings.Join(names, " "), *out)
	return nil
}
