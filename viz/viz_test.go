package viz

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func solid(c, h, w int, vals ...float32) []float32 {
	out := make([]float32, c*h*w)
	for ch := range c {
		for i := range h * w {
			out[ch*h*w+i] = vals[ch%len(vals)]
		}
	}
	return out
}

func TestImageGridLayout(t *testing.T) {
	// Five 2x3 grey images in rows of 2, scale 3: 3 rows.
	imgs := [][]float32{solid(1, 2, 3, 0), solid(1, 2, 3, 1), solid(1, 2, 3, 0.5), solid(1, 2, 3, -4), solid(1, 2, 3, float32(math.NaN()))}
	img, err := ImageGrid(imgs, 1, 2, 3, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	tw, th := 3*3+gap, 2*3+gap
	if b := img.Bounds(); b.Dx() != gap+2*tw || b.Dy() != gap+3*th {
		t.Fatalf("grid %v, want %dx%d", b, gap+2*tw, gap+3*th)
	}
	want := []uint8{0, 255, 128, 0, 0}
	for i, v := range want {
		x0, y0 := gap+(i%2)*tw, gap+(i/2)*th
		for _, p := range []image.Point{{x0, y0}, {x0 + 8, y0 + 5}} {
			if got := img.NRGBAAt(p.X, p.Y); got != (color.NRGBA{v, v, v, 0xff}) {
				t.Errorf("image %d pixel %v = %v, want grey %d", i, p, got, v)
			}
		}
	}
	// The gaps and the empty sixth cell are background.
	for _, p := range []image.Point{{0, 0}, {gap + tw - 1, gap}, {gap + tw + 1, gap + 2*th + 1}} {
		if got := img.NRGBAAt(p.X, p.Y); got != background {
			t.Errorf("pixel %v = %v, want background", p, got)
		}
	}
}

// TestImageGridChannels: CHW order, three channels as RGB and others as the
// mean, and each source pixel as a scale x scale block.
func TestImageGridChannels(t *testing.T) {
	rgb := []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0} // 3x2x2: R at (0,0), G at (0,1), B at (1,0)
	img, err := ImageGrid([][]float32{rgb}, 3, 2, 2, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	at := func(y, x int) color.NRGBA { return img.NRGBAAt(gap+x, gap+y) }
	for _, c := range []struct {
		y, x int
		want color.NRGBA
	}{
		{0, 0, color.NRGBA{255, 0, 0, 255}}, {1, 1, color.NRGBA{255, 0, 0, 255}},
		{0, 2, color.NRGBA{0, 255, 0, 255}}, {1, 3, color.NRGBA{0, 255, 0, 255}},
		{2, 0, color.NRGBA{0, 0, 255, 255}}, {3, 3, color.NRGBA{0, 0, 0, 255}},
	} {
		if got := at(c.y, c.x); got != c.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", c.y, c.x, got, c.want)
		}
	}
	two, err := ImageGrid([][]float32{solid(2, 1, 1, 0.2, 0.6)}, 2, 1, 1, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := two.NRGBAAt(gap, gap); got != (color.NRGBA{102, 102, 102, 255}) {
		t.Errorf("two-channel pixel %v, want the grey of the mean 0.4", got)
	}
}

func TestCompareGrid(t *testing.T) {
	n := 5
	in, out := make([][]float32, n), make([][]float32, n)
	for i := range n {
		in[i], out[i] = solid(1, 4, 4, 1), solid(1, 4, 4, 0)
	}
	img, err := CompareGrid([][][]float32{in, out}, []string{"input", "output"}, 1, 4, 4, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	th := 4*2 + gap
	if want := gap + 2*(2*th) + groupGap; img.Bounds().Dy() != want {
		t.Errorf("height %d, want %d (two groups of two rows)", img.Bounds().Dy(), want)
	}
	// Right edge column of tiles: the first group's input row is white,
	// its output row black; the second group's second column is empty.
	x := img.Bounds().Dx() - gap - 1
	if got := img.NRGBAAt(x, gap+1); got != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("input tile pixel %v, want white", got)
	}
	if got := img.NRGBAAt(x, gap+th+1); got != (color.NRGBA{0, 0, 0, 255}) {
		t.Errorf("output tile pixel %v, want black", got)
	}
	if got := img.NRGBAAt(x, gap+2*th+groupGap+1); got != background {
		t.Errorf("missing tile pixel %v, want background", got)
	}
	// The label margin holds white text pixels.
	white := 0
	for y := range th {
		for x := range 30 {
			if img.NRGBAAt(x, gap+y) == textColor {
				white++
			}
		}
	}
	if white < 20 {
		t.Errorf("label margin has %d text pixels; no label drawn", white)
	}
}

func TestGridErrors(t *testing.T) {
	ok := [][]float32{solid(1, 2, 2, 0)}
	for name, f := range map[string]func() error{
		"no images":  func() error { _, err := ImageGrid(nil, 1, 2, 2, 1, 1); return err },
		"wrong size": func() error { _, err := ImageGrid(ok, 1, 3, 2, 1, 1); return err },
		"zero cols":  func() error { _, err := ImageGrid(ok, 1, 2, 2, 0, 1); return err },
		"huge":       func() error { _, err := ImageGrid(ok, 1, 2, 2, 1, 1<<14); return err },
		"no sets":    func() error { _, err := CompareGrid(nil, nil, 1, 2, 2, 1, 1); return err },
		"labels":     func() error { _, err := CompareGrid([][][]float32{ok}, []string{"a", "b"}, 1, 2, 2, 1, 1); return err },
		"uneven sets": func() error {
			_, err := CompareGrid([][][]float32{ok, append(ok, ok[0])}, nil, 1, 2, 2, 1, 1)
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWritePNGRoundTrip(t *testing.T) {
	img, err := ImageGrid([][]float32{solid(1, 3, 3, 0.5)}, 1, 3, 3, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _, _ := back.At(gap+1, gap+1).RGBA(); r>>8 != 128 {
		t.Errorf("decoded grey %d, want 128", r>>8)
	}
}

// TestScatter draws three clusters and checks that the PNG decodes at the
// requested size and that each class's colour is painted.
func TestScatter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var pts [][2]float64
	var labels []int
	for i := range 300 {
		k := i % 3
		pts = append(pts, [2]float64{float64(4*k) + r.NormFloat64(), float64(k%2)*5 + r.NormFloat64()})
		labels = append(labels, k)
	}
	pts = append(pts, [2]float64{math.NaN(), 0})
	labels = append(labels, 0)
	var buf bytes.Buffer
	if err := Scatter(&buf, pts, labels, []string{"alpha", "beta", "gamma", "unused"}, ScatterOptions{Title: "PCA", XLabel: "PC 1", YLabel: "PC 2"}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 350 {
		t.Errorf("scatter image %v, want about 7x5 inches", b)
	}
	// Count pixels near each class colour (legend glyphs are opaque).
	for k := range 4 {
		want, _ := ClassStyle(k)
		n := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				if near(r>>8, want.R) && near(g>>8, want.G) && near(b>>8, want.B) {
					n++
				}
			}
		}
		if k < 3 && n < 30 {
			t.Errorf("class %d: %d pixels of its colour", k, n)
		}
		if k == 3 && n > 0 {
			t.Errorf("absent class 3 painted %d pixels", n)
		}
	}
}

func near(a uint32, b uint8) bool { return a+12 >= uint32(b) && a <= uint32(b)+12 }

func TestScatterErrors(t *testing.T) {
	var buf bytes.Buffer
	pts := [][2]float64{{0, 0}, {1, 1}}
	for name, err := range map[string]error{
		"no points":      Scatter(&buf, nil, nil, nil, ScatterOptions{}),
		"label count":    Scatter(&buf, pts, []int{0}, []string{"a"}, ScatterOptions{}),
		"label range":    Scatter(&buf, pts, []int{0, 1}, []string{"a"}, ScatterOptions{}),
		"label negative": Scatter(&buf, pts, []int{0, -1}, []string{"a"}, ScatterOptions{}),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "viz: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if err := Scatter(&buf, pts, nil, nil, ScatterOptions{}); err != nil {
		t.Errorf("unlabelled scatter: %v", err)
	}
}
