package source

// This file finds out what a --data folder holds (image folders, a folder
// of unlabelled images, MNIST-style IDX files, CIFAR binary batches) and
// opens its training and test splits. It leaves out the Python-pickle
// CIFAR files, EMNIST's transposed images and any format that needs
// downloading (see data/fetch).

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/cifar"
	"github.com/kiln-ml/kiln/data/idx"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
	"github.com/kiln-ml/kiln/run"
)

// Format is the layout of a data folder, detected from its files.
type Format string

// The formats DetectSource recognises.
const (
	FormatImageFolder Format = "imagefolder" // DIR/train/<class>/* and DIR/test/<class>/*, or DIR/<class>/*
	FormatImages      Format = "images"      // image files with no class folders: unlabelled
	FormatIDX         Format = "idx"         // train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...
	FormatCIFAR10     Format = "cifar10"     // data_batch_1.bin ... data_batch_5.bin, test_batch.bin, batches.meta.txt
	FormatCIFAR100    Format = "cifar100"    // train.bin, test.bin, fine_label_names.txt
)

// Source is a data folder and what it holds.
type Source struct {
	Dir    string // the folder as given
	Root   string // the folder holding the files: Dir, or a subfolder such as cifar-10-batches-bin
	Format Format
	Split  bool // image folders: Root has train/ (and maybe test/) folders
}

// tensors reports whether the format stores decoded pixels (IDX, CIFAR)
// rather than image files.
func (s *Source) Tensors() bool {
	return s.Format == FormatIDX || s.Format == FormatCIFAR10 || s.Format == FormatCIFAR100
}

// String describes the source for logs, e.g. "Fashion-MNIST IDX files in DIR".
func (s *Source) String() string {
	switch s.Format {
	case FormatIDX:
		if isFashion(s.Root) {
			return "Fashion-MNIST IDX files in " + s.Root
		}
		return "IDX files in " + s.Root
	case FormatCIFAR10:
		return "CIFAR-10 binary batches in " + s.Root
	case FormatCIFAR100:
		return "CIFAR-100 binary batches in " + s.Root
	case FormatImages:
		return "unlabelled images in " + s.Root
	case FormatTextFolder:
		return "text folder " + s.Root
	case FormatTextLines:
		return "lines file " + s.Root
	}
	return s.Root
}

// DetectSource finds out what dir holds, from its file names alone, and
// for text from the first lines or file names it finds (text_formats.go).
func DetectSource(dir string) (*Source, error) {
	if st, err := os.Stat(dir); err == nil && st.Mode().IsRegular() {
		return detectLinesFile(dir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, &run.SettingError{Err: fmt.Errorf("--data %s: not a folder (want image or text class folders, with or without train/ and test/, a folder of IDX or CIFAR binary files, or a \"label<TAB>text\" lines file)", dir)}
	}
	s := &Source{Dir: dir, Root: dir}
	has := func(root string, names ...string) bool {
		for _, n := range names {
			if run.Exists(filepath.Join(root, n)) {
				return true
			}
		}
		return false
	}
	for _, prefix := range []string{"train", "t10k"} {
		base := prefix + "-images-idx3-ubyte"
		if has(dir, base, base+".gz") {
			s.Format = FormatIDX
			return s, nil
		}
	}
	for _, root := range []string{dir, filepath.Join(dir, "cifar-10-batches-bin")} {
		if has(root, "batches.meta.txt") && has(root, "data_batch_1.bin", "test_batch.bin") {
			s.Root, s.Format = root, FormatCIFAR10
			return s, nil
		}
	}
	for _, root := range []string{dir, filepath.Join(dir, "cifar-100-binary")} {
		if has(root, "fine_label_names.txt") && has(root, "train.bin", "test.bin") {
			s.Root, s.Format = root, FormatCIFAR100
			return s, nil
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "train")); err == nil && st.IsDir() {
		s.Format, s.Split = FormatImageFolder, true
		if isTextTree(filepath.Join(dir, "train")) {
			s.Format = FormatTextFolder
			return s, nil
		}
		if hasSubfolders(filepath.Join(dir, "train")) == 0 {
			s.Format = FormatImages
		}
		return s, nil
	}
	switch n := hasSubfolders(dir); {
	case n > 0:
		s.Format = FormatImageFolder
		if isTextTree(dir) {
			s.Format = FormatTextFolder
		}
		return s, nil
	case n == 0:
		s.Format = FormatImages
		return s, nil
	}
	return nil, &run.SettingError{Err: fmt.Errorf("--data %s: found no image files, class folders, IDX files (train-images-idx3-ubyte.gz, ...) or CIFAR batches (data_batch_1.bin, ...)", dir)}
}

// hasSubfolders returns the number of visible subfolders of dir, 0 when it
// has none but holds image files, and -1 when it has neither.
func hasSubfolders(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	dirs, images := 0, 0
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."):
		case e.IsDir():
			dirs++
		case e.Type()&os.ModeSymlink != 0:
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.IsDir() {
				dirs++
			} else if isImageName(name) {
				images++
			}
		case isImageName(name):
			images++
		}
	}
	switch {
	case dirs > 0:
		return dirs
	case images > 0:
		return 0
	}
	return -1
}

func isImageName(name string) bool {
	lower := strings.ToLower(name)
	return slices.ContainsFunc(imagefolder.Extensions, func(e string) bool { return strings.HasSuffix(lower, e) })
}

// isFashion reports whether a folder's path says it holds Fashion-MNIST,
// as Debian's /usr/share/datasets/fashion-mnist and kiln's cache do: IDX
// files carry no class names, and the two datasets share every file name.
func isFashion(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return strings.Contains(strings.ToLower(abs), "fashion")
}

// OpenOptions control Source.Open.
type OpenOptions struct {
	Channels   int                // image files: 1 or 3 (default 3); tensor formats: convert to this many (0: as stored)
	Transform  *transform.Compose // applied to every example; nil: none (tensor formats) or ToTensor (image files)
	Workers    int                // goroutines checking image files
	ClassNames []string           // tensor formats: names of the labels; nil: from the data
	AllowEmpty bool               // image folders: a class folder without images is no error
	FullCheck  bool               // image files: decode every file when opening, not just its header
	Strict     bool               // image folders: a bad file is an error, not skipped and reported
	Log        io.Writer          // image files: the report of kept and skipped files; nil: not written
	Decode     imagefolder.Mode   // image files: how 16-bit grey becomes 8 bits
}

// Open opens the training split (train true) or the test split. It returns
// a nil Dataset and no error when the data have no such split; for image
// files it also returns what the scan found and skipped.
func (s *Source) Open(train bool, opt OpenOptions) (data.Dataset, *imagefolder.Report, error) {
	if s.IsText() {
		return nil, nil, fmt.Errorf("source: %s holds texts, not images", s)
	}
	if s.Tensors() {
		d, err := s.openTensors(train, opt.ClassNames)
		if d == nil || err != nil {
			return nil, nil, err
		}
		if opt.Transform == nil && (opt.Channels == 0 || opt.Channels == d.Shape()[0]) {
			return d, nil, nil
		}
		v, err := NewImageView(d, opt.Channels, opt.Transform)
		return v, nil, err
	}
	dir := s.Root
	if s.Split {
		dir = filepath.Join(s.Root, "test")
		if train {
			dir = filepath.Join(s.Root, "train")
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, nil, nil
		}
	} else if !train {
		return nil, nil, nil
	}
	var d data.Dataset
	var rep *imagefolder.Report
	var err error
	if s.Format == FormatImages {
		d, rep, err = openImageFiles(dir, opt)
	} else {
		d, rep, err = imagefolder.Open(dir, imagefolder.Options{Channels: opt.Channels, Transform: opt.Transform, Workers: opt.Workers,
			AllowEmpty: opt.AllowEmpty, FullCheck: opt.FullCheck, Strict: opt.Strict, Decode: opt.Decode})
	}
	if err != nil {
		return nil, nil, err
	}
	if opt.Log != nil {
		fmt.Fprintln(opt.Log, rep)
	}
	return d, rep, nil
}

// openTensors loads an IDX or CIFAR split, or returns nil when its files
// are missing.
func (s *Source) openTensors(train bool, names []string) (data.Dataset, error) {
	switch s.Format {
	case FormatIDX:
		prefix := "t10k"
		if train {
			prefix = "train"
		}
		base := filepath.Join(s.Root, prefix+"-images-idx3-ubyte")
		if !run.Exists(base) && !run.Exists(base+".gz") {
			return nil, nil
		}
		classes := names
		if classes == nil {
			classes = idx.DigitClasses()
			if isFashion(s.Root) {
				classes = idx.FashionMNISTClasses()
			}
		}
		d, err := idx.LoadSplit(s.Root, train, classes)
		if err != nil && names == nil {
			err = fmt.Errorf("%w (if the labels are not 0-9, name the classes with --classes)", err)
		}
		return d, err
	case FormatCIFAR10, FormatCIFAR100:
		first := "test_batch.bin"
		switch {
		case s.Format == FormatCIFAR100 && train:
			first = "train.bin"
		case s.Format == FormatCIFAR100:
			first = "test.bin"
		case train:
			first = "data_batch_1.bin"
		}
		if !run.Exists(filepath.Join(s.Root, first)) {
			return nil, nil
		}
		var d *cifar.Dataset
		var err error
		if s.Format == FormatCIFAR10 {
			d, err = cifar.Load10(s.Root, train)
		} else {
			d, err = cifar.Load100(s.Root, train, false)
		}
		if err != nil || names == nil {
			return d, err
		}
		return RenameClasses(d, names)
	}
	return nil, fmt.Errorf("source: %s holds no tensor data", s.Root)
}

// renamed gives a dataset other class names.
type renamed struct {
	data.Dataset
	classes []string
}

// Classes returns the new names.
func (r *renamed) Classes() []string { return r.classes }

// Labels passes the labels through, when the dataset knows them.
func (r *renamed) Labels() []int {
	if l, ok := r.Dataset.(data.Labeler); ok {
		return l.Labels()
	}
	return nil
}

func RenameClasses(d data.Dataset, names []string) (data.Dataset, error) {
	if len(names) != len(d.Classes()) {
		return nil, fmt.Errorf("--classes: %d names, but the data have %d classes (%s)", len(names), len(d.Classes()), strings.Join(d.Classes(), ", "))
	}
	return &renamed{Dataset: d, classes: slices.Clone(names)}, nil
}
