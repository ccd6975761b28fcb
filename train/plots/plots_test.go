package plots

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// countColor counts the pixels of img within 8 of c in every channel.
func countColor(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	near := func(a uint32, b uint8) bool { return math.Abs(float64(a>>8)-float64(b)) <= 8 }
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, c.R) && near(g, c.G) && near(bl, c.B) {
				n++
			}
		}
	}
	return n
}

func TestCurves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loss.png")
	err := Curves(path, "loss", "cross-entropy",
		Series{Name: "train", X: []float64{1, 2, 3}, Y: []float64{2, 1, 0.5}},
		Series{Name: "validation", X: []float64{1, 2, 3}, Y: []float64{2.2, math.NaN(), 0.7}},
		Series{Name: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 250 {
		t.Errorf("image is %v", b)
	}
	// Both curves are drawn in their colours.
	for i, c := range lineColors[:2] {
		if n := countColor(img, c.(color.RGBA)); n < 50 {
			t.Errorf("series %d: %d pixels of its colour", i, n)
		}
	}
	// A one-epoch run still plots.
	if err := Curves(path, "loss", "loss", Series{Name: "train", X: []float64{1}, Y: []float64{0.3}}); err != nil {
		t.Fatal(err)
	}
}

func TestConfusion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "confusion.png")
	counts := [][]int{{50, 0, 0}, {0, 25, 25}, {0, 0, 0}}
	if err := Confusion(path, "test", []string{"a", "bb", "ccc"}, counts); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	dark := blues{}.Colors()[63].(color.RGBA)
	mid := blues{}.Colors()[31].(color.RGBA)
	// The full cell (recall 1) is dark, the two half cells are mid blue.
	if n := countColor(img, dark); n < 1000 {
		t.Errorf("%d dark pixels, want a whole cell", n)
	}
	if n := countColor(img, mid); n < 2000 {
		t.Errorf("%d mid-blue pixels, want two cells", n)
	}
	if err := Confusion(path, "", []string{"a"}, [][]int{{1, 2}}); err == nil {
		t.Error("a ragged matrix was accepted")
	}
}
