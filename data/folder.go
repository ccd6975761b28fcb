package data

// This file holds the class-folder scan that the image and text folder
// loaders share: root/<class>/**/<file>, as torchvision's ImageFolder
// finds it. It leaves out reading the files (each loader checks its own
// kind) and the empty-class policy, whose errors differ between loaders.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ScanOptions configures FindClasses and ClassFiles.
type ScanOptions struct {
	// Prefix names the calling package in errors ("imagefolder"), so a
	// failed scan reads as that loader's error; "" means "data".
	Prefix string
	// Layout is the expected layout, named when root has no class
	// folders, e.g. "root/<class>/<image>".
	Layout string
	// Extensions are the file name endings that count as examples,
	// matched without regard to case.
	Extensions []string
}

// ScanCounts counts what a scan passed over, for a loader's report. A
// loader keeps one across FindClasses and every ClassFiles call.
type ScanCounts struct {
	Hidden  int // files and folders whose names start with '.'
	Ignored int // files with another extension, or loose in the root
}

func (o ScanOptions) prefix() string {
	if o.Prefix == "" {
		return "data"
	}
	return o.Prefix
}

// FindClasses returns the class folders of root, sorted by name so that
// label i is the i-th. Hidden entries are passed over (a ".git" or
// ".ipynb_checkpoints" is not a class), and symlinks to folders count as
// folders, as torchvision's scandir(...).is_dir() has it. It fails if root
// cannot be read or has no class folders.
func FindClasses(root string, opt ScanOptions, n *ScanCounts) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("%s: root %w", opt.prefix(), err)
	}
	var classes []string
	for _, e := range entries {
		switch {
		case isHidden(e.Name()):
			n.Hidden++
		case isDir(root, e):
			classes = append(classes, e.Name())
		default:
			n.Ignored++
		}
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("%s: %s has no class folders (want %s)", opt.prefix(), root, opt.Layout)
	}
	sort.Strings(classes)
	return classes, nil
}

// ClassFiles lists the files under the class folder dir that have one of
// opt.Extensions, recursively, in torchvision's order: sorted by (folder
// path, file name). Hidden files and folders are passed over. Symlinked
// folders are followed once each, by their resolved path, so a link back
// up the tree cannot loop and a second link to one folder adds nothing. It
// fails if a folder under dir cannot be read.
func ClassFiles(dir string, opt ScanOptions, n *ScanCounts) ([]string, error) {
	type entry struct{ dir, name string }
	var found []entry
	seen := map[string]bool{}
	var walk func(d string) error
	walk = func(d string) error {
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			return fmt.Errorf("%s: %w", opt.prefix(), err)
		}
		if seen[real] {
			return nil // a symlink loop or a second link to the same folder
		}
		seen[real] = true
		entries, err := os.ReadDir(d)
		if err != nil {
			return fmt.Errorf("%s: %w", opt.prefix(), err)
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case isHidden(name):
				n.Hidden++
			case isDir(d, e):
				if err := walk(filepath.Join(d, name)); err != nil {
					return err
				}
			case hasExt(name, opt.Extensions):
				found = append(found, entry{d, name})
			default:
				n.Ignored++
			}
		}
		return nil
	}
	if err := walk(dir); err != nil {
		return nil, err
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].dir != found[j].dir {
			return found[i].dir < found[j].dir
		}
		return found[i].name < found[j].name
	})
	paths := make([]string, len(found))
	for i, e := range found {
		paths[i] = filepath.Join(e.dir, e.name)
	}
	return paths, nil
}

func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// isDir reports whether a directory entry is a folder, following symlinks.
func isDir(dir string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && st.IsDir()
}

func hasExt(name string, exts []string) bool {
	lower := strings.ToLower(name)
	for _, e := range exts {
		if strings.HasSuffix(lower, strings.ToLower(e)) {
			return true
		}
	}
	return false
}
