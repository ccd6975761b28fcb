package main

// This file holds "kiln data stats", the preprocessing report of a data
// folder: per split, the class balance, the per-channel mean and standard
// deviation (what Normalize wants), exact duplicates and the files that
// could not be read; and duplicates across splits, which leak test images
// into training. It leaves out near-duplicates (re-encoded or resized
// copies) and image size histograms.

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
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

// classCount is one class's share of a split.
type classCount struct {
	Class  string  `json:"class"`
	Count  int     `json:"count"`
	Share  float64 `json:"share"`
	Source string  `json:"-"`
}

// skippedFile is a file the scan could not use.
type skippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// splitStats is the report of one split.
type splitStats struct {
	Split      string        `json:"split"` // train or test
	Dir        string        `json:"dir,omitempty"`
	Examples   int           `json:"examples"`
	Shape      []int         `json:"shape"` // [C, H, W] as decoded
	Classes    []classCount  `json:"classes"`
	Imbalance  float64       `json:"imbalance"` // largest class / smallest class; 0 without classes
	Mean       []float64     `json:"mean"`
	Std        []float64     `json:"std"`
	Duplicates [][]string    `json:"duplicates"` // groups of identical examples
	Found      int           `json:"found,omitempty"`
	Skipped    []skippedFile `json:"skipped"`
	Ignored    int           `json:"ignored,omitempty"` // files without an image extension
	Hidden     int           `json:"hidden,omitempty"`

	names []string // example names, for duplicate groups
}

// statsReport is the whole report; --json prints it.
type statsReport struct {
	Data   string        `json:"data"`
	Format source.Format `json:"format"`
	Source string        `json:"source"`
	Decode string        `json:"decode,omitempty"` // how image files were decoded
	Splits []splitStats  `json:"splits"`
	// CrossSplit lists test examples identical to training examples:
	// each group names the test example first.
	CrossSplit [][]string `json:"cross_split_duplicates"`
}

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
	rep, err := dataStats(dir, *size, *channels, *workers)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printStats(stdout, rep)
	return nil
}

// dataStats builds the report of dir.
func dataStats(dir string, size, channels, workers int) (*statsReport, error) {
	src, err := source.DetectSource(dir)
	if err != nil {
		return nil, err
	}
	rep := &statsReport{Data: dir, Format: src.Format, Source: src.String(), CrossSplit: [][]string{}}
	switch {
	case src.Format == source.FormatImageFolder && src.Split:
		rep.Source = "image files in class folders under train/ and test/"
	case src.Format == source.FormatImageFolder:
		rep.Source = "image files in class folders"
	case src.Format == source.FormatImages:
		rep.Source = "image files without class folders"
	}
	opt := source.OpenOptions{Workers: workers, AllowEmpty: true, FullCheck: true}
	if src.Format == source.FormatImageFolder || src.Format == source.FormatImages {
		spec, what := "", "native size"
		if size > 0 {
			spec, what = fmt.Sprintf("resize=%dx%d", size, size), fmt.Sprintf("resized to %dx%d", size, size)
		}
		tf, err := transform.Parse(spec)
		if err != nil {
			return nil, err
		}
		opt.Channels, opt.Transform = channels, tf
		rep.Decode = fmt.Sprintf("%s, %s", map[int]string{1: "grey", 3: "RGB"}[channels], what)
	}
	var keys [][][32]byte // per split, each example's content hash
	for _, split := range []string{"train", "test"} {
		ds, frep, err := src.Open(split == "train", opt)
		if err != nil {
			return nil, err
		}
		if ds == nil {
			continue
		}
		st, k, err := splitReport(split, ds, frep, workers)
		if err != nil {
			return nil, err
		}
		rep.Splits = append(rep.Splits, *st)
		keys = append(keys, k)
	}
	if len(rep.Splits) == 2 {
		tr, te := rep.Splits[0].names, rep.Splits[1].names
		var groups [][]int
		if keys[0] != nil {
			groups = groupKeys(append(append([][32]byte(nil), keys[0]...), keys[1]...))
		} else if groups, err = imagefolder.DuplicateFiles(append(append([]string(nil), tr...), te...), workers); err != nil {
			return nil, err
		}
		for _, g := range groups {
			if g[0] >= len(tr) {
				continue // only test examples
			}
			for _, i := range g {
				if i >= len(tr) {
					rep.CrossSplit = append(rep.CrossSplit, []string{te[i-len(tr)], tr[g[0]]})
				}
			}
		}
	}
	return rep, nil
}

// pathed is a dataset of files.
type pathed interface{ Path(i int) string }

// splitReport computes one split's statistics and each example's content
// hash: the file's for image files, the pixels' and label's otherwise.
func splitReport(split string, ds data.Dataset, frep *imagefolder.Report, workers int) (*splitStats, [][32]byte, error) {
	st := &splitStats{Split: split, Examples: ds.Len(), Shape: ds.Shape(), Skipped: []skippedFile{}, Duplicates: [][]string{}}
	if frep != nil {
		st.Dir, st.Found, st.Ignored, st.Hidden = frep.Root, frep.Found, frep.Ignored, frep.Hidden
		for _, s := range frep.Skipped {
			st.Skipped = append(st.Skipped, skippedFile{s.Path, s.Reason})
		}
	}
	labels, err := data.Labels(ds)
	if err != nil {
		return nil, nil, err
	}
	if classes := ds.Classes(); len(classes) > 0 {
		counts, err := data.ClassCounts(labels, len(classes))
		if err != nil {
			return nil, nil, err
		}
		lo, hi := math.MaxInt, 0
		for i, c := range classes {
			st.Classes = append(st.Classes, classCount{Class: c, Count: counts[i], Share: float64(counts[i]) / float64(max(len(labels), 1))})
			lo, hi = min(lo, counts[i]), max(hi, counts[i])
		}
		if lo > 0 {
			st.Imbalance = float64(hi) / float64(lo)
		} else {
			st.Imbalance = math.Inf(1)
		}
	}
	if st.Mean, st.Std, err = data.ChannelStats(ds); err != nil {
		return nil, nil, err
	}
	keys, names, err := exampleKeys(split, ds)
	if err != nil {
		return nil, nil, err
	}
	st.names = names
	var groups [][]int
	if keys != nil {
		groups = groupKeys(keys)
	} else if groups, err = imagefolder.DuplicateFiles(names, workers); err != nil {
		return nil, nil, err
	}
	for _, g := range groups {
		var files []string
		for _, i := range g {
			files = append(files, names[i])
		}
		st.Duplicates = append(st.Duplicates, files)
	}
	if math.IsInf(st.Imbalance, 1) {
		st.Imbalance = -1 // JSON has no infinity: -1 marks an empty class
	}
	return st, keys, nil
}

// exampleKeys returns each example's name and, for IDX and CIFAR data,
// its content key: the SHA-256 of the decoded pixels (not the label: a
// copy in two classes is a labelling error worth seeing); those
// examples are named split[index]. Image files are named by path and get
// no keys: imagefolder.DuplicateFiles compares them.
func exampleKeys(split string, ds data.Dataset) ([][32]byte, []string, error) {
	n := ds.Len()
	names := make([]string, n)
	if p, ok := ds.(pathed); ok {
		for i := range n {
			names[i] = p.Path(i)
		}
		return nil, names, nil
	}
	keys := make([][32]byte, n)
	x := make([]float32, exampleLen(ds.Shape()))
	buf := make([]byte, 4*len(x))
	for i := range n {
		if _, err := ds.Get(i, x, nil); err != nil {
			return nil, nil, err
		}
		for j, v := range x {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
		}
		keys[i], names[i] = sha256.Sum256(buf), fmt.Sprintf("%s[%d]", split, i)
	}
	return keys, names, nil
}

// groupKeys groups equal keys, as DuplicateFiles groups equal files:
// indices in increasing order, groups by their first index, singletons
// left out.
func groupKeys(keys [][32]byte) [][]int {
	groups := map[[32]byte][]int{}
	var order [][32]byte
	for i, k := range keys {
		if len(groups[k]) == 0 {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	var out [][]int
	for _, k := range order {
		if g := groups[k]; len(g) > 1 {
			out = append(out, g)
		}
	}
	return out
}

func exampleLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// printStats prints the report for people.
func printStats(w io.Writer, r *statsReport) {
	fmt.Fprintf(w, "%s: %s", r.Data, r.Source)
	if r.Decode != "" {
		fmt.Fprintf(w, " (images decoded %s)", r.Decode)
	}
	fmt.Fprintln(w)
	for _, s := range r.Splits {
		fmt.Fprintf(w, "\n%s: %d examples of %v", s.Split, s.Examples, s.Shape)
		if s.Dir != "" {
			fmt.Fprintf(w, " in %s", s.Dir)
		}
		fmt.Fprintln(w)
		if len(s.Classes) > 0 {
			width := len("class")
			for _, c := range s.Classes {
				width = max(width, len(c.Class))
			}
			fmt.Fprintf(w, "  %-*s  %7s  %6s\n", width, "class", "count", "share")
			for _, c := range s.Classes {
				fmt.Fprintf(w, "  %-*s  %7d  %5.1f%%\n", width, c.Class, c.Count, 100*c.Share)
			}
			if s.Imbalance < 0 {
				fmt.Fprintln(w, "  balance: some class has no examples")
			} else {
				fmt.Fprintf(w, "  balance: the largest class has %.2fx the examples of the smallest\n", s.Imbalance)
			}
		} else {
			fmt.Fprintln(w, "  no classes (unlabelled images)")
		}
		fmt.Fprintf(w, "  channel mean %s\n  channel std  %s\n", floats(s.Mean), floats(s.Std))
		if len(s.Duplicates) == 0 {
			fmt.Fprintln(w, "  duplicates: none")
		} else {
			n := 0
			for _, g := range s.Duplicates {
				n += len(g)
			}
			fmt.Fprintf(w, "  duplicates: %s of identical examples, %d examples in all\n", plural(len(s.Duplicates), "group"), n)
			for _, g := range s.Duplicates[:min(10, len(s.Duplicates))] {
				fmt.Fprintf(w, "    %s\n", strings.Join(g, " = "))
			}
			if len(s.Duplicates) > 10 {
				fmt.Fprintf(w, "    and %d more groups\n", len(s.Duplicates)-10)
			}
		}
		if s.Found > 0 || len(s.Skipped) > 0 {
			fmt.Fprintf(w, "  files: kept %d of %d images", s.Examples, s.Found)
			if s.Ignored > 0 || s.Hidden > 0 {
				fmt.Fprintf(w, "; ignored %d other files and %d hidden entries", s.Ignored, s.Hidden)
			}
			fmt.Fprintln(w)
			for _, sk := range s.Skipped {
				fmt.Fprintf(w, "    skipped %s: %s\n", sk.Path, sk.Reason)
			}
		}
	}
	if len(r.Splits) == 2 {
		if len(r.CrossSplit) == 0 {
			fmt.Fprintln(w, "\nacross splits: no test example is a copy of a training example")
		} else {
			fmt.Fprintf(w, "\nacross splits: %s (they inflate the test score):\n",
				plural(len(r.CrossSplit), "test example is a copy of a training example", "test examples are copies of training examples"))
			for _, g := range r.CrossSplit[:min(10, len(r.CrossSplit))] {
				fmt.Fprintf(w, "  %s = %s\n", g[0], g[1])
			}
			if len(r.CrossSplit) > 10 {
				fmt.Fprintf(w, "  and %d more\n", len(r.CrossSplit)-10)
			}
		}
	}
}

func floats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.4f", x)
	}
	return strings.Join(parts, " ")
}

// plural returns "1 thing" or "n things" (or the given plural form).
func plural(n int, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}
