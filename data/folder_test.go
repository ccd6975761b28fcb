package data

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// makeTree creates a temporary folder holding the empty files named by
// slash paths and the symbolic links {old, new} (new pointing at old, slash
// paths under the folder), and returns it. It skips the test where the file
// system has no symlinks.
func makeTree(t *testing.T, files []string, links [][2]string) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range files {
		path := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range links {
		if err := os.Symlink(filepath.Join(root, filepath.FromSlash(l[0])), filepath.Join(root, filepath.FromSlash(l[1]))); err != nil {
			t.Skip("no symlinks:", err)
		}
	}
	return root
}

func TestFindClasses(t *testing.T) {
	opt := ScanOptions{Prefix: "pkg", Layout: "root/<class>/<thing>", Extensions: []string{".x"}}
	tests := []struct {
		name    string
		files   []string
		links   [][2]string // {old, new}
		want    []string
		counts  ScanCounts
		wantErr string
	}{
		{"sorted, hidden and loose entries passed over",
			[]string{"b/1.x", "a/1.x", "C/1.x", ".git/1.x", ".DS_Store", "README"}, nil,
			[]string{"C", "a", "b"}, ScanCounts{Hidden: 2, Ignored: 1}, ""},
		{"symlinked folder is a class, symlinked file is not",
			[]string{"real/1.x", "f.x"}, [][2]string{{"real", "link"}, {"f.x", "g.x"}},
			[]string{"link", "real"}, ScanCounts{Ignored: 2}, ""},
		{"no class folders",
			[]string{"a.x", ".hidden/1.x"}, nil,
			nil, ScanCounts{Hidden: 1, Ignored: 1}, "has no class folders (want root/<class>/<thing>)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := makeTree(t, tt.files, tt.links)
			var n ScanCounts
			got, err := FindClasses(root, opt, &n)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), "pkg: "+root+" ") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want pkg: %s ... %s", err, root, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || n != tt.counts {
				t.Errorf("classes %q, counts %+v; want %q, %+v", got, n, tt.want, tt.counts)
			}
		})
	}
}

func TestFindClassesMissingRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "nope")
	_, err := FindClasses(root, ScanOptions{Prefix: "pkg"}, &ScanCounts{})
	if err == nil || !strings.HasPrefix(err.Error(), "pkg: root ") || !strings.Contains(err.Error(), root) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v, want a wrapped not-exist naming %s", err, root)
	}
	// The prefix defaults to the package's own.
	_, err = FindClasses(root, ScanOptions{}, &ScanCounts{})
	if err == nil || !strings.HasPrefix(err.Error(), "data: root ") {
		t.Errorf("error %v, want the data: prefix", err)
	}
}

func TestClassFiles(t *testing.T) {
	opt := ScanOptions{Prefix: "pkg", Extensions: []string{".png", ".JPG"}}
	tests := []struct {
		name   string
		files  []string
		links  [][2]string // {old, new}
		want   []string    // slash paths relative to the class folder
		counts ScanCounts
	}{
		// Folder paths compare as strings, as torchvision's sorted(os.walk()):
		// "sub" < "sub-x" < "sub/deeper", since '-' sorts before '/'.
		{"torchvision order: folder path, then name",
			[]string{"c/b.png", "c/a.png", "c/sub/a.png", "c/sub-x/a.png", "c/sub/deeper/z.png"}, nil,
			[]string{"a.png", "b.png", "sub/a.png", "sub-x/a.png", "sub/deeper/z.png"}, ScanCounts{}},
		{"extensions without regard to case",
			[]string{"c/a.PNG", "c/b.jpg", "c/c.Jpg", "c/d.jpeg", "c/e.png.txt"}, nil,
			[]string{"a.PNG", "b.jpg", "c.Jpg"}, ScanCounts{Ignored: 2}},
		{"hidden files and folders",
			[]string{"c/.a.png", "c/.cache/b.png", "c/.cache/c.png", "c/d.png"}, nil,
			[]string{"d.png"}, ScanCounts{Hidden: 2}},
		{"a link back up the tree does not loop",
			[]string{"c/a.png", "c/sub/b.png"}, [][2]string{{"c", "c/sub/up"}},
			[]string{"a.png", "sub/b.png"}, ScanCounts{}},
		{"two links to one folder are walked once, by the first name",
			[]string{"c/a.png", "shared/s.png"}, [][2]string{{"shared", "c/l1"}, {"shared", "c/l2"}},
			[]string{"a.png", "l1/s.png"}, ScanCounts{}},
		{"a symlinked file counts as a file",
			[]string{"c/a.png", "elsewhere.png"}, [][2]string{{"elsewhere.png", "c/b.png"}},
			[]string{"a.png", "b.png"}, ScanCounts{}},
		{"a broken link is a file, left for the loader to reject",
			[]string{"c/a.png"}, [][2]string{{"gone.png", "c/b.png"}, {"gone", "c/d"}},
			[]string{"a.png", "b.png"}, ScanCounts{Ignored: 1}},
		{"empty class folder",
			[]string{"c/notes.txt"}, nil,
			[]string{}, ScanCounts{Ignored: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := makeTree(t, tt.files, tt.links)
			dir := filepath.Join(root, "c")
			n := ScanCounts{Hidden: 10, Ignored: 20} // counts add up across calls
			paths, err := ClassFiles(dir, opt, &n)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, p := range paths {
				rel, err := filepath.Rel(dir, p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, filepath.ToSlash(rel))
			}
			want := ScanCounts{Hidden: 10 + tt.counts.Hidden, Ignored: 20 + tt.counts.Ignored}
			if !slices.Equal(got, tt.want) || n != want {
				t.Errorf("files %q, counts %+v; want %q, %+v", got, n, tt.want, want)
			}
		})
	}
}

func TestClassFilesMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	_, err := ClassFiles(dir, ScanOptions{Prefix: "pkg"}, &ScanCounts{})
	if err == nil || !strings.HasPrefix(err.Error(), "pkg: ") || !strings.Contains(err.Error(), dir) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v, want a wrapped not-exist naming %s", err, dir)
	}
}
