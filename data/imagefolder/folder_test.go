package imagefolder

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/transform"
)

var _ data.Dataset = (*Folder)(nil)
var _ data.Labeler = (*Folder)(nil)

func sample(w, h int, seed int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.NRGBA{uint8(x*13 + seed*40), uint8(y*17 + seed), uint8((x + y) * 5), 255})
		}
	}
	return m
}

func encode(t testing.TB, format string, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "jpg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	case "png":
		err = png.Encode(&buf, img)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	case "bmp":
		err = bmp.Encode(&buf, img)
	case "tiff":
		err = tiff.Encode(&buf, img, nil)
	default:
		t.Fatalf("format %q", format)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testdataFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/img", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// makeTree builds a class tree of 16x12 images in every format, with bad,
// hidden and foreign files mixed in. It returns the root and the paths Open
// must keep, in torchvision's order.
func makeTree(t testing.TB) (string, []string) {
	root := t.TempDir()
	p := func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }
	good := encode(t, "jpg", sample(16, 12, 1))
	sos := bytes.Index(good, []byte{0xff, 0xda})
	cut := good[:sos+(len(good)-sos)/2] // header intact, half the scan data missing

	write(t, p("cat/b.png"), encode(t, "png", sample(16, 12, 2)))
	write(t, p("cat/a.jpg"), good)
	write(t, p("cat/UPPER.JPG"), encode(t, "jpg", sample(16, 12, 3)))
	write(t, p("cat/sub/c.gif"), encode(t, "gif", sample(16, 12, 4)))
	write(t, p("cat/sub/deeper/d.bmp"), encode(t, "bmp", sample(16, 12, 5)))
	write(t, p("cat/sub-x/e.tiff"), encode(t, "tiff", sample(16, 12, 6)))
	write(t, p("cat/f.webp"), testdataFile(t, "lossy.webp"))
	write(t, p("cat/g.ppm"), testdataFile(t, "rgb.ppm"))
	write(t, p("cat/h.pgm"), testdataFile(t, "l.pgm"))
	write(t, p("cat/i.tif"), testdataFile(t, "rgba.tif"))
	write(t, p("cat/cut.jpg"), cut)
	write(t, p("cat/empty.png"), nil)
	write(t, p("cat/trunc.png"), encode(t, "png", sample(16, 12, 7))[:30])
	write(t, p("cat/fake.jpg"), []byte("this is not a JPEG"))
	write(t, p("cat/.hidden.png"), encode(t, "png", sample(16, 12, 8)))
	write(t, p("cat/notes.txt"), []byte("hello"))
	write(t, p("dog/x.png"), encode(t, "png", sample(16, 12, 9)))
	write(t, p("dog/y.webp"), testdataFile(t, "lossless.webp"))
	write(t, p("dog/.ipynb_checkpoints/z.png"), encode(t, "png", sample(16, 12, 10)))
	write(t, p(".git/config.png"), encode(t, "png", sample(16, 12, 11)))
	write(t, p("readme.md"), []byte("a file at the root is not a class"))
	// A symlink back up the tree must not loop.
	if err := os.Symlink(p("cat"), p("cat/sub/loop")); err != nil {
		t.Fatal(err)
	}
	keep := []string{
		// torchvision's (folder, name) order, checked against ImageFolder:
		// capitals before lower case, and "sub-x" between "sub" and
		// "sub/deeper" because '-' sorts before '/'.
		"cat/UPPER.JPG", "cat/a.jpg", "cat/b.png", "cat/cut.jpg", "cat/f.webp", "cat/g.ppm", "cat/h.pgm", "cat/i.tif",
		"cat/sub/c.gif", "cat/sub-x/e.tiff", "cat/sub/deeper/d.bmp",
		"dog/x.png", "dog/y.webp",
	}
	for i, k := range keep {
		keep[i] = p(k)
	}
	return root, keep
}

func TestOpen(t *testing.T) {
	root, keep := makeTree(t)
	f, rep, err := Open(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := 0; i < f.Len(); i++ {
		paths = append(paths, f.Path(i))
	}
	if !slices.Equal(paths, keep) {
		t.Errorf("kept\n%s\nwant\n%s", strings.Join(paths, "\n"), strings.Join(keep, "\n"))
	}
	if !slices.Equal(f.Classes(), []string{"cat", "dog"}) || f.ClassToIdx()["dog"] != 1 {
		t.Errorf("classes %v, class_to_idx %v", f.Classes(), f.ClassToIdx())
	}
	wantLabels := append(slices.Repeat([]int{0}, 11), 1, 1)
	if !slices.Equal(f.Labels(), wantLabels) {
		t.Errorf("labels %v", f.Labels())
	}
	if !slices.Equal(f.Shape(), []int{3, 12, 16}) {
		t.Errorf("shape %v", f.Shape())
	}
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		reasons[filepath.Base(s.Path)] = s.Reason
	}
	for name, want := range map[string]string{"empty.png": "empty file", "trunc.png": "png header", "fake.jpg": "not a supported image format"} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("%s skipped for %q, want a reason with %q", name, reasons[name], want)
		}
	}
	if len(rep.Skipped) != 3 || rep.Found != 16 || rep.Kept != 13 || rep.Classes != 2 || rep.Ignored != 2 || rep.Hidden != 3 {
		t.Errorf("report %+v", rep)
	}
	if s := rep.String(); !strings.Contains(s, "kept 13 of 16") || !strings.Contains(s, "skipped 3") {
		t.Errorf("summary %q", s)
	}

	// Every kept file decodes, except the one only a full check would catch.
	x := make([]float32, 3*12*16)
	for i, path := range keep {
		y, err := f.Get(i, x, nil)
		if strings.HasSuffix(path, "cut.jpg") {
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("truncated JPEG: %v", err)
			}
			continue
		}
		if err != nil || y != wantLabels[i] {
			t.Errorf("Get(%d) = %d, %v", i, y, err)
		}
		for _, v := range x {
			if v < 0 || v > 1 {
				t.Fatalf("%s: value %v outside [0, 1]", path, v)
			}
		}
	}

	full, rep, err := Open(root, Options{FullCheck: true, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if full.Len() != 12 || len(rep.Skipped) != 4 || !slices.Equal(full.Shape(), []int{1, 12, 16}) {
		t.Errorf("full check kept %d, skipped %v, shape %v", full.Len(), rep.Skipped, full.Shape())
	}

	if _, _, err := Open(root, Options{Strict: true}); err == nil || !strings.Contains(err.Error(), "cat") {
		t.Errorf("strict Open: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	img := encode(t, "png", sample(16, 12, 1))
	tests := []struct {
		name  string
		files map[string][]byte
		opt   Options
		want  string
	}{
		{"missing root", nil, Options{}, "no such file"},
		{"no classes", map[string][]byte{"a.png": img}, Options{}, "no class folders"},
		{"empty class", map[string][]byte{"a/x.png": img, "b/notes.txt": nil}, Options{}, filepath.Join("b") + " has no image files"},
		{"all bad", map[string][]byte{"a/x.png": img, "b/y.png": []byte("junk")}, Options{}, "has no readable images"},
		{"sizes differ", map[string][]byte{"a/x.png": img, "a/y.png": encode(t, "png", sample(20, 10, 1))}, Options{}, "fixed-size crop or resize"},
		{"bad normalize", map[string][]byte{"a/x.png": img}, Options{Transform: &transform.Compose{
			Normalize: &transform.Normalize{Mean: []float32{0.5, 0.5}, Std: []float32{1, 1}}}}, "normalize"},
	}
	for _, tt := range tests {
		root := filepath.Join(t.TempDir(), "root")
		if tt.files != nil {
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for rel, b := range tt.files {
			write(t, filepath.Join(root, rel), b)
		}
		_, _, err := Open(root, tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "imagefolder: ") {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		if tt.name == "empty class" || tt.name == "all bad" {
			f, _, err := Open(root, Options{AllowEmpty: true})
			if err != nil || f.Len() != 1 || len(f.Classes()) != 2 {
				t.Errorf("%s with AllowEmpty: %v", tt.name, err)
			}
		}
	}
	// A transform that fixes the size makes mixed sizes fine.
	root := t.TempDir()
	write(t, filepath.Join(root, "a/x.png"), img)
	write(t, filepath.Join(root, "a/y.png"), encode(t, "png", sample(20, 10, 1)))
	p, _ := transform.Parse("resize=8,centercrop=8")
	if f, _, err := Open(root, Options{Transform: p}); err != nil || !slices.Equal(f.Shape(), []int{3, 8, 8}) {
		t.Errorf("resize+crop over mixed sizes: %v", err)
	}
}

// TestFolderLoader runs a folder through the Loader with augmentation and
// checks the batches are the same for 1 and 4 workers.
func TestFolderLoader(t *testing.T) {
	root, _ := makeTree(t)
	p, err := transform.Parse("randomcrop=8:2:reflect,hflip,jitter=0.3/0.3/0.3/0.05,normalize=0.5:0.25")
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := Open(root, Options{Transform: p, FullCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	var ref [][]float32
	for _, w := range []int{1, 4} {
		l, err := data.NewLoader(f, data.LoaderOptions{BatchSize: 5, Shuffle: true, Seed: 3, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		it, err := l.Epoch(context.Background(), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]float32
		for it.Next() {
			b := it.Batch()
			if !slices.Equal(b.Shape[1:], []int{3, 8, 8}) {
				t.Fatalf("batch shape %v", b.Shape)
			}
			got = append(got, slices.Clone(b.X))
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		it.Close()
		if ref == nil {
			ref = got
		} else if !slices.EqualFunc(ref, got, slices.Equal) {
			t.Error("4 workers gave different batches from 1")
		}
	}
}

func TestDuplicates(t *testing.T) {
	root := t.TempDir()
	a := encode(t, "png", sample(16, 12, 1))
	b := encode(t, "png", sample(16, 12, 2))
	write(t, filepath.Join(root, "cat/1.png"), a)
	write(t, filepath.Join(root, "cat/2.png"), b)
	write(t, filepath.Join(root, "cat/3.png"), a)
	write(t, filepath.Join(root, "dog/4.png"), b)
	write(t, filepath.Join(root, "dog/5.png"), encode(t, "png", sample(16, 12, 3)))
	write(t, filepath.Join(root, "dog/6.png"), a)
	f, _, err := Open(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := f.Duplicates()
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]int{{0, 2, 5}, {1, 3}}; !slices.EqualFunc(groups, want, slices.Equal) {
		t.Errorf("duplicates %v, want %v", groups, want)
	}
}
