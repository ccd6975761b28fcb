package imagefolder

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/transform"
)

// randomImages returns one image of every colour model Convert handles,
// with random pixels and (where there is one) random alpha.
func randomImages(seed uint64, rect image.Rectangle) map[string]image.Image {
	r := rand.New(rand.NewPCG(seed, 0))
	byt := func() uint8 { return uint8(r.IntN(256)) }
	out := map[string]image.Image{}

	nrgba := image.NewNRGBA(rect)
	rgba := image.NewRGBA(rect)
	gray := image.NewGray(rect)
	gray16 := image.NewGray16(rect)
	rgba64 := image.NewRGBA64(rect)
	nrgba64 := image.NewNRGBA64(rect)
	cmyk := image.NewCMYK(rect)
	alpha := image.NewAlpha(rect)
	pal := image.NewPaletted(rect, color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{50, 40, 30, 128}, color.NRGBA{200, 100, 0, 7}})
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			a := byt()
			if r.IntN(4) == 0 {
				a = []uint8{0, 255}[r.IntN(2)]
			}
			n := color.NRGBA{byt(), byt(), byt(), a}
			nrgba.Set(x, y, n)
			rgba.Set(x, y, n) // stored premultiplied
			gray.Set(x, y, color.Gray{byt()})
			gray16.Set(x, y, color.Gray16{uint16(r.IntN(65536))})
			n64 := color.NRGBA64{uint16(r.IntN(65536)), uint16(r.IntN(65536)), uint16(r.IntN(65536)), uint16(r.IntN(65536))}
			nrgba64.Set(x, y, n64)
			rgba64.Set(x, y, n64)
			cmyk.Set(x, y, color.CMYK{byt(), byt(), byt(), byt()})
			alpha.Set(x, y, color.Alpha{byt()})
			pal.SetColorIndex(x, y, uint8(r.IntN(3)))
		}
	}
	out["nrgba"], out["rgba"], out["gray"], out["gray16"] = nrgba, rgba, gray, gray16
	out["rgba64"], out["nrgba64"], out["cmyk"], out["alpha"], out["paletted"] = rgba64, nrgba64, cmyk, alpha, pal
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		y := image.NewYCbCr(rect, ratio)
		for i := range y.Y {
			y.Y[i] = byt()
		}
		for i := range y.Cb {
			y.Cb[i], y.Cr[i] = byt(), byt()
		}
		out["ycbcr"+ratio.String()] = y
		ya := image.NewNYCbCrA(rect, ratio)
		copy(ya.Y, y.Y)
		copy(ya.Cb, y.Cb)
		copy(ya.Cr, y.Cr)
		for i := range ya.A {
			ya.A[i] = byt()
		}
		out["nycbcra"+ratio.String()] = ya
	}
	return out
}

// straightRGB is the slow, obviously right conversion of one pixel: its
// colour without alpha, un-premultiplied where the type is premultiplied,
// high byte of 16-bit samples.
func straightRGB(c color.Color) (uint8, uint8, uint8) {
	switch c := c.(type) {
	case color.NRGBA:
		return c.R, c.G, c.B
	case color.NYCbCrA:
		return color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
	case color.CMYK:
		return cmykRGB(c.C, c.M, c.Y, c.K) // checked against Pillow by TestCMYKFormula
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)
}

// TestConvertFastPathsMatchColorModel checks every fast path against
// straightRGB through At, for zero and non-zero (negative) origins.
func TestConvertFastPathsMatchColorModel(t *testing.T) {
	for _, rect := range []image.Rectangle{image.Rect(0, 0, 13, 9), image.Rect(3, -3, 14, 7)} {
		for name, img := range randomImages(1, rect) {
			checkConvert(t, name, img)
		}
	}
}

func checkConvert(t *testing.T, name string, img image.Image) {
	t.Helper()
	r := img.Bounds()
	for _, c := range []int{1, 3} {
		got := Convert(img, c)
		want := transform.NewImage(r.Dx(), r.Dy(), c)
		for y := 0; y < r.Dy(); y++ {
			for x := 0; x < r.Dx(); x++ {
				R, G, B := straightRGB(img.At(r.Min.X+x, r.Min.Y+y))
				put(want, x, y, R, G, B)
			}
		}
		if !slices.Equal(got.Pix, want.Pix) {
			i := 0
			for got.Pix[i] == want.Pix[i] {
				i++
			}
			t.Errorf("%s %v to %d channels: byte %d is %d, colour model says %d", name, r, c, i, got.Pix[i], want.Pix[i])
		}
	}
}

// TestConvertDropsAlpha checks PIL's convert("RGB") rule on a premultiplied
// pixel: the colour comes back undivided by the alpha, not composited.
func TestConvertDropsAlpha(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.NRGBA{200, 100, 50, 128})
	img.Set(1, 0, color.NRGBA{200, 100, 50, 0})
	got := Convert(img, 3).Pix
	if got[0] < 199 || got[0] > 201 || got[1] < 99 || got[1] > 101 || got[2] < 49 || got[2] > 51 {
		t.Errorf("half-transparent pixel became %v, want about 200,100,50", got[:3])
	}
	if !slices.Equal(got[3:], []uint8{0, 0, 0}) {
		t.Errorf("transparent pixel became %v; its colour is lost to premultiplication", got[3:])
	}
}

func TestDecodeRejects(t *testing.T) {
	var good bytes.Buffer
	if err := png.Encode(&good, image.NewGray(image.Rect(0, 0, 300, 200))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"text", []byte("hello, I am not an image")},
		{"truncated header", good.Bytes()[:20]},
		{"truncated pixels", good.Bytes()[:good.Len()-30]},
		{"pnm over maxval", []byte("P2 2 1 10 5 11")},
		{"pnm short", []byte("P5 4 4 255 \x00\x01")},
		{"pnm zero width", []byte("P6 0 4 255 ")},
		{"pbm not a bit", []byte("P1 2 1 0 2")},
		{"pbm short", []byte("P4 9 2 \x00\x00\x00")},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.b, 3, 0); err == nil {
			t.Errorf("%s: decoded", tt.name)
		}
	}
	if _, err := Decode(good.Bytes(), 3, 300*200-1); err == nil {
		t.Error("image over MaxPixels decoded")
	}
	if _, err := Decode(good.Bytes(), 2, 0); err == nil {
		t.Error("2 channels accepted")
	}
	// ASCII bitmap, digits packed and spaced, a comment between: 1 is ink.
	img, err := Decode([]byte("P1\n# c\n4 1\n01 1\n# d\n0"), 1, 0)
	if err != nil || !slices.Equal(img.Pix, []uint8{255, 0, 0, 255}) {
		t.Errorf("ASCII PBM: %v %v", img, err)
	}
	// ASCII PNM with comments, scaled from maxval 10.
	img, err = Decode([]byte("P2\n# a comment\n3 1 # another\n10\n0 5\n10"), 1, 0)
	if err != nil || !slices.Equal(img.Pix, []uint8{0, 128, 255}) {
		t.Errorf("ASCII PGM: %v %v", img, err)
	}
}

// TestQuickSize checks the in-place size reader against the format's own
// header decoder on every JPEG and PNG seed.
func TestQuickSize(t *testing.T) {
	names, _ := filepath.Glob("testdata/img/*")
	n := 0
	for _, name := range names {
		b, _ := os.ReadFile(name)
		f, _ := sniff(b)
		w, h, err := quickSize(f, b)
		if err == errNoQuickSize {
			continue
		}
		n++
		cfg, cerr := f.config(bytes.NewReader(b))
		if err != nil || cerr != nil || w != cfg.Width || h != cfg.Height {
			t.Errorf("%s: quick size %dx%d (%v), header decoder %dx%d (%v)", name, w, h, err, cfg.Width, cfg.Height, cerr)
		}
	}
	if n < 10 {
		t.Errorf("only %d JPEG/PNG seeds", n)
	}
}

// TestGIFCanvas checks that a first frame smaller than the logical screen
// is placed on it, as PIL shows it, rather than rejected or cropped.
func TestGIFCanvas(t *testing.T) {
	pal := color.Palette{color.RGBA{9, 9, 9, 255}, color.RGBA{200, 0, 0, 255}}
	frame := image.NewPaletted(image.Rect(2, 1, 6, 5), pal)
	for i := range frame.Pix {
		frame.Pix[i] = 1
	}
	var buf bytes.Buffer
	g := &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: pal, Width: 10, Height: 8}}
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	img, err := Decode(buf.Bytes(), 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if img.W != 10 || img.H != 8 {
		t.Fatalf("decoded %dx%d, want the 10x8 screen", img.W, img.H)
	}
	at := func(x, y int) []uint8 { return img.Pix[(y*10+x)*3 : (y*10+x)*3+3] }
	if !slices.Equal(at(3, 2), []uint8{200, 0, 0}) || !slices.Equal(at(0, 0), []uint8{9, 9, 9}) || !slices.Equal(at(6, 5), []uint8{9, 9, 9}) {
		t.Errorf("frame pixel %v, outside %v %v", at(3, 2), at(0, 0), at(6, 5))
	}
	if _, err := Decode([]byte("junk"), 3, 0); err == nil || !strings.HasPrefix(err.Error(), "imagefolder: ") {
		t.Errorf("Decode error %v lacks the package prefix", err)
	}
}
