package source

// This file holds the preprocessing report of a data folder (kiln data
// stats): per split, the class balance, the per-channel mean and standard
// deviation (what Normalize wants), exact duplicates and the files that
// could not be read; and duplicates across splits, which leak test images
// into training; and the 16-bit images, where the decode mode matters. It
// leaves out near-duplicates (re-encoded or resized
// copies) and image size histograms. The text form is in stats_text.go.

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
)

// ClassCount is one class's share of a split.
type ClassCount struct {
	Class  string  `json:"class"`
	Count  int     `json:"count"`
	Share  float64 `json:"share"`
	Source string  `json:"-"`
}

// SkippedFile is a file the scan could not use.
type SkippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// SplitStats is the report of one split.
type SplitStats struct {
	Split      string        `json:"split"` // train or test
	Dir        string        `json:"dir,omitempty"`
	Examples   int           `json:"examples"`
	Shape      []int         `json:"shape"` // [C, H, W] as decoded
	Classes    []ClassCount  `json:"classes"`
	Imbalance  float64       `json:"imbalance"` // largest class / smallest class; 0 without classes
	Mean       []float64     `json:"mean"`
	Std        []float64     `json:"std"`
	Duplicates [][]string    `json:"duplicates"` // groups of identical examples
	Found      int           `json:"found,omitempty"`
	Skipped    []SkippedFile `json:"skipped"`
	Ignored    int           `json:"ignored,omitempty"` // files without an image extension
	Hidden     int           `json:"hidden,omitempty"`
	Deep       *DeepStats    `json:"sixteen_bit,omitempty"` // image files with 16-bit samples; nil: none

	names []string // example names, for duplicate groups
}

// DeepStats counts a split's 16-bit image files and the range of their
// samples, and how the 16-bit rule (data/imagefolder) takes the grey ones.
type DeepStats struct {
	Images int    `json:"images"` // image files with 16-bit samples
	Grey   int    `json:"grey"`   // of those, one grey channel: where the 16-bit rule decides
	Packed int    `json:"packed"` // grey with every sample at most 255: 8-bit values, taken as they are
	Min    uint16 `json:"min"`    // the smallest and largest sample over all of them
	Max    uint16 `json:"max"`
	// Wide lists up to 10 grey files over the whole 16-bit range: scaled by
	// their high byte by default, clipped to white by Pillow (--decode pil).
	Wide []string `json:"wide,omitempty"`
}

// StatsReport is the report of one data folder; kiln data stats --json prints it.
type StatsReport struct {
	Data   string       `json:"data"`
	Format Format       `json:"format"`
	Source string       `json:"source"`
	Decode string       `json:"decode,omitempty"` // how image files were decoded
	Splits []SplitStats `json:"splits"`
	// CrossSplit lists test examples identical to training examples:
	// each group names the test example first.
	CrossSplit [][]string `json:"cross_split_duplicates"`
}

// Stats builds the report of dir.
func Stats(dir string, size, channels, workers int) (*StatsReport, error) {
	src, err := DetectSource(dir)
	if err != nil {
		return nil, err
	}
	rep := &StatsReport{Data: dir, Format: src.Format, Source: src.String(), CrossSplit: [][]string{}}
	switch {
	case src.Format == FormatImageFolder && src.Split:
		rep.Source = "image files in class folders under train/ and test/"
	case src.Format == FormatImageFolder:
		rep.Source = "image files in class folders"
	case src.Format == FormatImages:
		rep.Source = "image files without class folders"
	}
	opt := OpenOptions{Workers: workers, AllowEmpty: true, FullCheck: true}
	if src.Format == FormatImageFolder || src.Format == FormatImages {
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
func splitReport(split string, ds data.Dataset, frep *imagefolder.Report, workers int) (*SplitStats, [][32]byte, error) {
	st := &SplitStats{Split: split, Examples: ds.Len(), Shape: ds.Shape(), Skipped: []SkippedFile{}, Duplicates: [][]string{}}
	if frep != nil {
		st.Dir, st.Found, st.Ignored, st.Hidden = frep.Root, frep.Found, frep.Ignored, frep.Hidden
		for _, s := range frep.Skipped {
			st.Skipped = append(st.Skipped, SkippedFile{s.Path, s.Reason})
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
			st.Classes = append(st.Classes, ClassCount{Class: c, Count: counts[i], Share: float64(counts[i]) / float64(max(len(labels), 1))})
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
	if keys == nil {
		if st.Deep, err = deepStats(names); err != nil {
			return nil, nil, err
		}
	}
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

// deepStats inspects every image file for 16-bit samples; nil when there
// are none.
func deepStats(paths []string) (*DeepStats, error) {
	d := &DeepStats{Min: 0xffff}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		dp, err := imagefolder.Inspect(b)
		if err != nil || dp.Bits != 16 {
			continue // the scan kept it, so it decodes: it is 8-bit
		}
		d.Images++
		d.Min, d.Max = min(d.Min, dp.Min), max(d.Max, dp.Max)
		switch {
		case dp.Grey && dp.Packed:
			d.Grey++
			d.Packed++
		case dp.Grey:
			d.Grey++
			if len(d.Wide) < 10 {
				d.Wide = append(d.Wide, p)
			}
		}
	}
	if d.Images == 0 {
		return nil, nil
	}
	return d, nil
}
