package source

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/run"
)

// TestStatsSixteenBit builds a folder of 8-bit and 16-bit files (made by
// data/imagefolder/testdata/make.py) and checks the 16-bit report: the
// count, the grey ones, the 8-bit values in 16 bits, the range, and the
// warning naming a full-range grey file.
func TestStatsSixteenBit(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"a/packed.png": "m_i16.png",          // Pillow I;16, values 0-255
		"a/full.png":   "m_i16_full.png",     // Pillow I;16 over the whole range
		"a/plain.png":  "l.png",              // 8-bit
		"b/im.pgm":     "im_gray16.pgm",      // ImageMagick -depth 16, maxval 65535
		"b/rgb16.png":  "im_rgb16.png",       // 16-bit colour: the rule does not apply
		"b/rgb.png":    "rgb.png",            // 8-bit
		"b/packed.png": "im_gray16_8bit.png", // ImageMagick, values 0-255
	}
	for dst, src := range files {
		b, err := os.ReadFile(filepath.Join("../data/imagefolder/testdata/img", src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Stats(root, 0, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Splits[0].Deep
	if d == nil {
		t.Fatal("no 16-bit report")
	}
	if d.Images != 5 || d.Grey != 4 || d.Packed != 2 || len(d.Wide) != 2 {
		t.Errorf("16-bit report %+v, want 5 images, 4 grey, 2 packed, 2 wide", d)
	}
	if d.Min > 20 || d.Max < 0xf000 {
		t.Errorf("range %d-%d, want from near 0 to near 65535", d.Min, d.Max)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"16-bit: 5 images (4 grey)", "2 grey images hold 8-bit values", "warning: 2 grey images use the whole 16-bit range", "full.png"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	// Without 16-bit files there is no report and no warning.
	for dst := range files {
		if !strings.Contains(dst, "plain") && !strings.Contains(dst, "rgb.png") {
			os.Remove(filepath.Join(root, dst))
		}
	}
	if rep, err = Stats(root, 0, 1, 1); err != nil {
		t.Fatal(err)
	}
	if rep.Splits[0].Deep != nil {
		t.Errorf("16-bit report %+v for 8-bit files", rep.Splits[0].Deep)
	}
}

// TestLoadDatasetsDecode checks that run.Config.Decode reaches the
// decoder: a full-range 16-bit grey image is its picture by default and
// white with "pil"; an unknown mode is refused naming --decode.
func TestLoadDatasetsDecode(t *testing.T) {
	root := t.TempDir()
	for _, c := range []string{"a", "b"} {
		b, err := os.ReadFile("../data/imagefolder/testdata/img/m_i16_full.png")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, c), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, c, "x.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mean := func(decode string) (float64, error) {
		cfg := run.DefaultConfig()
		cfg.Data, cfg.Channels, cfg.ImageSize, cfg.ValSplit, cfg.Decode = root, 1, 16, 0, decode
		ds, err := LoadDatasets(cfg, io.Discard)
		if err != nil {
			return 0, err
		}
		x := make([]float32, 16*16)
		if _, err := ds.Train.Get(0, x, nil); err != nil {
			return 0, err
		}
		s := 0.0
		for _, v := range x {
			s += float64(v)
		}
		return s / float64(len(x)), nil
	}
	view, err := mean("")
	if err != nil {
		t.Fatal(err)
	}
	pil, err := mean("pil")
	if err != nil {
		t.Fatal(err)
	}
	if !(view > 0.2 && view < 0.8) || pil < 0.95 {
		t.Errorf("mean pixel %.3f by default (want the picture's, mid-grey) and %.3f with pil (want white)", view, pil)
	}
	if _, err := mean("pillow"); err == nil || !strings.Contains(err.Error(), "--decode") {
		t.Errorf("unknown decode mode: %v", err)
	}
}
