// Package imagefolder is torchvision's ImageFolder for kiln: a directory of
// class folders of images, checked at Open and decoded on demand into
// float32 CHW examples through a transform pipeline.
//
// Layout, as torchvision: root/<class>/**/<image>, classes sorted by name
// and numbered from 0, files found recursively (symlinks followed) and taken
// in torchvision's order. Unlike torchvision, hidden files and folders
// (names starting with '.') are skipped, and unreadable files are skipped
// and reported at Open instead of failing mid-epoch.
//
// Pixels are Pillow's convert("RGB") or convert("L") of the file, with one
// departure by default: 16-bit grey over the whole 16-bit range is scaled
// by its high byte, as a viewer shows it, where Pillow clips it to white
// (the 16-bit rule, depth.go; it also takes 32-bit integer TIFF grey whose
// samples all lie in 0-65535); Options.Decode = ModePIL gives Pillow's.
package imagefolder

// This file holds Open, the directory scan and the Dataset methods. It
// leaves out caching decoded images in memory.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/transform"
)

// Extensions is torchvision's IMG_EXTENSIONS plus .gif, matched without
// regard to case.
var Extensions = []string{".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif"}

// Options configures Open. The zero value is RGB, ToTensor only, header
// checks, skip and report bad files.
type Options struct {
	Channels   int                // 3 (RGB, the default) or 1 (luma, PIL's "L")
	Transform  *transform.Compose // applied in Get; nil is ToTensor alone
	FullCheck  bool               // decode every file at Open, not just its header
	Strict     bool               // a bad file fails Open instead of being skipped
	AllowEmpty bool               // accept class folders left with no image
	Extensions []string           // nil means Extensions
	Workers    int                // goroutines checking files at Open; 0 means GOMAXPROCS
	MaxPixels  int                // larger images are bad files; 0 means DefaultMaxPixels
	Decode     Mode               // how 16-bit grey becomes 8 bits; the zero value is ModeView
}

// Folder is an opened image folder; it implements data.Dataset and
// data.Labeler. It is safe for concurrent Gets.
type Folder struct {
	root    string
	classes []string
	toIdx   map[string]int
	paths   []string
	labels  []int
	shape   []int
	opt     Options
	bufs    sync.Pool
}

// Open scans root, checks every image file, and returns the dataset with a
// report of what was kept and skipped. It fails if root is missing, has no
// class folders, a class folder has no images (unless AllowEmpty), a file is
// bad under Strict, or the images do not all yield one example shape through
// the transform.
func Open(root string, opt Options) (*Folder, *Report, error) {
	if opt.Channels == 0 {
		opt.Channels = 3
	}
	if opt.Channels != 1 && opt.Channels != 3 {
		return nil, nil, fmt.Errorf("imagefolder: %d channels, want 1 or 3", opt.Channels)
	}
	if opt.Extensions == nil {
		opt.Extensions = Extensions
	}
	if err := opt.Transform.Check(opt.Channels); err != nil {
		return nil, nil, fmt.Errorf("imagefolder: transform %q: %w", opt.Transform, err)
	}
	rep := &Report{Root: root}
	scan := data.ScanOptions{Prefix: "imagefolder", Layout: "root/<class>/<image>", Extensions: opt.Extensions}
	var passed data.ScanCounts
	classes, err := data.FindClasses(root, scan, &passed)
	if err != nil {
		return nil, nil, err
	}
	f := &Folder{root: root, classes: classes, toIdx: map[string]int{}, opt: opt}
	var files []string
	var labels []int
	for i, c := range classes {
		f.toIdx[c] = i
		found, err := data.ClassFiles(filepath.Join(root, c), scan, &passed)
		if err != nil {
			return nil, nil, err
		}
		if len(found) == 0 && !opt.AllowEmpty {
			return nil, nil, fmt.Errorf("imagefolder: class folder %s has no image files (extensions %s)",
				filepath.Join(root, c), strings.Join(opt.Extensions, " "))
		}
		files = append(files, found...)
		for range found {
			labels = append(labels, i)
		}
	}
	rep.Classes, rep.Found = len(classes), len(files)
	rep.Hidden, rep.Ignored = passed.Hidden, passed.Ignored
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("imagefolder: %s has no image files in its %d class folders", root, len(classes))
	}

	cfgs, errs := f.checkAll(files)
	perClass := make([]int, len(classes))
	for i, path := range files {
		if errs[i] != nil {
			if opt.Strict {
				return nil, nil, fmt.Errorf("imagefolder: %s: %w", path, errs[i])
			}
			rep.Skipped = append(rep.Skipped, Skipped{Path: path, Reason: errs[i].Error()})
			continue
		}
		c, h, w := opt.Transform.OutShape(cfgs[i].Width, cfgs[i].Height, opt.Channels)
		shape := []int{c, h, w}
		if f.shape == nil {
			f.shape = shape
		} else if !slices.Equal(shape, f.shape) {
			return nil, nil, fmt.Errorf("imagefolder: %s gives examples of shape %v but %s gives %v; "+
				"add a fixed-size crop or resize to the transform", f.paths[0], f.shape, path, shape)
		}
		f.paths = append(f.paths, path)
		f.labels = append(f.labels, labels[i])
		perClass[labels[i]]++
	}
	rep.Kept = len(f.paths)
	if !opt.AllowEmpty {
		for i, n := range perClass {
			if n == 0 {
				return nil, nil, fmt.Errorf("imagefolder: class folder %s has no readable images (%s)",
					filepath.Join(root, classes[i]), rep)
			}
		}
	}
	if len(f.paths) == 0 {
		return nil, nil, fmt.Errorf("imagefolder: no readable images (%s)", rep)
	}
	return f, rep, nil
}

// checkAll checks every file in parallel: its header, or a full decode with
// FullCheck.
func (f *Folder) checkAll(files []string) ([]Config, []error) {
	cfgs := make([]Config, len(files))
	errs := make([]error, len(files))
	workers := f.opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cfgs[i], errs[i] = f.check(files[i])
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	return cfgs, errs
}

func (f *Folder) check(path string) (Config, error) {
	if f.opt.FullCheck {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, err
		}
		img, err := decode(b, f.opt.Channels, f.opt.MaxPixels, f.opt.Decode)
		if err != nil {
			return Config{}, err
		}
		fm, _ := sniff(b[:min(12, len(b))])
		return Config{Format: fm.name, Width: img.W, Height: img.H}, nil
	}
	file, err := os.Open(path)
	if err != nil {
		return Config{}, err
	}
	defer file.Close()
	return decodeConfig(bufio.NewReader(file), f.opt.MaxPixels)
}

// Len implements data.Dataset.
func (f *Folder) Len() int { return len(f.paths) }

// Shape implements data.Dataset: [C, H, W] after the transform.
func (f *Folder) Shape() []int { return slices.Clone(f.shape) }

// Classes implements data.Dataset: the class folder names, sorted.
func (f *Folder) Classes() []string { return f.classes }

// ClassToIdx maps each class folder name to its label, as torchvision's
// class_to_idx.
func (f *Folder) ClassToIdx() map[string]int { return f.toIdx }

// Labels implements data.Labeler without decoding anything.
func (f *Folder) Labels() []int { return f.labels }

// Path returns the file of example i.
func (f *Folder) Path(i int) string { return f.paths[i] }

// Get implements data.Dataset: it reads and decodes example i, runs the
// transform with rng, and writes the CHW tensor into x.
func (f *Folder) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	path := f.paths[i]
	bp, _ := f.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer f.bufs.Put(bp)
	b, err := readInto(path, *bp)
	*bp = b
	if err != nil {
		return 0, fmt.Errorf("imagefolder: %w", err)
	}
	img, err := decode(b, f.opt.Channels, f.opt.MaxPixels, f.opt.Decode)
	if err != nil {
		return 0, fmt.Errorf("imagefolder: %s: %w", path, err)
	}
	if err := f.opt.Transform.Tensor(img, x, rng); err != nil {
		return 0, fmt.Errorf("imagefolder: %s: %w", path, err)
	}
	return f.labels[i], nil
}

// readInto reads a whole file into buf's storage, growing it as needed.
func readInto(path string, buf []byte) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return buf[:0], err
	}
	defer file.Close()
	buf = buf[:0]
	if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
		// One read of the size stat reported, as os.ReadFile would start.
		if int64(cap(buf)) < st.Size() {
			buf = make([]byte, 0, st.Size()+512)
		}
		n, err := io.ReadFull(file, buf[:st.Size()])
		if err != nil {
			return buf[:n], fmt.Errorf("read %s: %w", path, err)
		}
		return buf[:n], nil
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := file.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, fmt.Errorf("read %s: %w", path, err)
		}
	}
}
