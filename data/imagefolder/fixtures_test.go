package imagefolder

import (
	"bufio"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixture is one row of testdata/fixtures.tsv (written by make.py).
type fixture struct {
	name, writer, mode, compare string
}

func readFixtures(t *testing.T) []fixture {
	t.Helper()
	f, err := os.Open("testdata/fixtures.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixture
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 4 {
			t.Fatalf("fixtures.tsv: line %q has %d fields, want 4", sc.Text(), len(p))
		}
		out = append(out, fixture{p[0], p[1], p[2], p[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFixtureTable decodes every file make.py wrote, every colour model
// Pillow writes in every format kiln reads and ImageMagick's 16-bit and
// CMYK files, in both modes and both channel counts. ModePIL must give
// Pillow's convert("RGB") and convert("L"): exactly for lossless formats,
// within Go's IDCT rounding for JPEG. ModeView must give the same, except
// for 16-bit grey over the whole range, where it must give the 8-bit
// picture the file was made from (want/NAME.view.*). Files no decoder here
// reads must be refused with an error naming the format.
func TestFixtureTable(t *testing.T) {
	rows := readFixtures(t)
	listed := map[string]bool{}
	for _, r := range rows {
		listed[r.name] = true
	}
	files, _ := filepath.Glob("testdata/img/*")
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not in fixtures.tsv: rerun make.py", f)
		}
	}
	views := 0
	for _, r := range rows {
		b, err := os.ReadFile(filepath.Join("testdata/img", r.name))
		if err != nil {
			t.Fatal(err)
		}
		if r.compare == "unsupported" {
			_, err := Decode(b, 3, 0)
			if err == nil || !strings.Contains(err.Error(), "imagefolder: ") {
				t.Errorf("%s (%s): decoded, or refused without a clear error: %v", r.name, r.mode, err)
			}
			continue
		}
		for _, mode := range []Mode{ModeView, ModePIL} {
			for _, ch := range []struct {
				ext string
				c   int
			}{{"rgb", 3}, {"l", 1}} {
				wantFile := filepath.Join("testdata/want", r.name+"."+ch.ext)
				if mode == ModeView {
					if v := filepath.Join("testdata/want", r.name+".view."+ch.ext); fileExists(v) {
						wantFile = v
						views++
					}
				}
				want, err := os.ReadFile(wantFile)
				if err != nil {
					t.Fatal(err)
				}
				img, err := DecodeMode(b, ch.c, 0, mode)
				if err != nil {
					t.Errorf("%s (%s, %s) %s: %v", r.name, r.writer, r.mode, mode, err)
					continue
				}
				if len(img.Pix) != len(want) {
					t.Errorf("%s %s as %s: %dx%dx%d, want %d bytes", r.name, mode, ch.ext, img.W, img.H, img.C, len(want))
					continue
				}
				mean, worst := diff(img.Pix, want)
				bad := worst != 0
				if r.compare == "jpeg" {
					bad = mean > 0.2 || worst > 8
				}
				if r.compare == "jpeg" && mode == ModePIL {
					t.Logf("%s as %s: mean difference %.3f, worst %d from Pillow", r.name, ch.ext, mean, worst)
				}
				if bad {
					t.Errorf("%s (%s, %s) %s as %s: mean difference %.3f, worst %d from %s",
						r.name, r.writer, r.mode, mode, ch.ext, mean, worst, filepath.Base(wantFile))
				}
			}
		}
	}
	if views < 8 {
		t.Errorf("only %d viewer comparisons: the 16-bit fixtures are missing", views)
	}
}

func diff(got, want []uint8) (mean float64, worst int) {
	sum := 0
	for i := range want {
		d := int(got[i]) - int(want[i])
		d = max(d, -d)
		sum += d
		worst = max(worst, d)
	}
	return float64(sum) / float64(len(want)), worst
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestSixteenBitRule pins the rule on one file each way: 8-bit values in a
// 16-bit PNG come back as they are in both modes; the same picture over the
// whole 16-bit range comes back as its high byte, and white from ModePIL.
func TestSixteenBitRule(t *testing.T) {
	pic := testdataFileT(t, "../want/l.png.l")
	packed := testdataFileT(t, "m_i16.png")
	full := testdataFileT(t, "m_i16_full.png")
	for _, m := range []Mode{ModeView, ModePIL} {
		img, err := DecodeMode(packed, 1, 0, m)
		if err != nil || !slices.Equal(img.Pix, pic) {
			t.Errorf("%s: 8-bit values in 16 bits did not come back as they are (%v)", m, err)
		}
	}
	img, err := DecodeMode(full, 1, 0, ModeView)
	if err != nil || !slices.Equal(img.Pix, pic) {
		t.Errorf("view: a full-range 16-bit image is not its high byte (%v)", err)
	}
	img, err = DecodeMode(full, 1, 0, ModePIL)
	if err != nil {
		t.Fatal(err)
	}
	white := 0
	for _, v := range img.Pix {
		if v == 255 {
			white++
		}
	}
	if white < len(img.Pix)*9/10 {
		t.Errorf("pil: %d of %d pixels white; Pillow clips a full-range 16-bit image to white", white, len(img.Pix))
	}
}

func testdataFileT(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/img", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]Mode{"": ModeView, "view": ModeView, "pil": ModePIL} {
		if m, err := ParseMode(s); err != nil || m != want {
			t.Errorf("ParseMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseMode("PIL "); err == nil || !strings.Contains(err.Error(), "view, pil") {
		t.Errorf("ParseMode of a bad name: %v", err)
	}
}

// TestInspect checks Inspect's depth and range on every fixture: the 16-bit
// files by name, 32-bit TIFFs by mode, 8 bits for the rest.
func TestInspect(t *testing.T) {
	packed := []string{"m_i.png", "m_i.ppm", "m_i16.png", "m_i16.tif", "m_i16b.tif", "im_gray16_8bit.png", "im_gray16_8bit.pgm", "trns_i16.png"}
	grey := []string{"i16.png", "m_i_full.png", "m_i_full.ppm", "m_i16_full.png", "m_i16_full.tif", "m_i16b_full.tif",
		"im_gray16.png", "im_gray16.tif", "im_gray16.pgm", "im_gray12.pgm", "trns_i16_full.png"}
	colour := []string{"im_rgb16.png", "im_rgba16.png", "im_rgb16.tif", "im_rgb16.ppm", "im_la16.png"}
	for _, r := range readFixtures(t) {
		d, err := Inspect(testdataFileT(t, r.name))
		if r.compare == "unsupported" {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", r.name, err)
			continue
		}
		want := Depth{Bits: 8}
		switch {
		case slices.Contains(packed, r.name):
			want = Depth{Bits: 16, Grey: true, Packed: true}
		case slices.Contains(grey, r.name):
			want = Depth{Bits: 16, Grey: true}
		case slices.Contains(colour, r.name):
			want = Depth{Bits: 16}
		case strings.HasSuffix(r.name, ".tif") && (r.mode == "I" || r.mode == "F"):
			// 32-bit: 8-bit values in integers are packed, the rest not.
			packed := r.mode == "I" && !strings.Contains(r.name, "full") && !strings.Contains(r.name, "wild")
			want = Depth{Bits: 32, Grey: true, Packed: packed}
		}
		if d.Bits != want.Bits || d.Grey != want.Grey || d.Packed != want.Packed {
			t.Errorf("%s: Inspect says %+v, want %+v", r.name, d, want)
		}
		if want.Bits == 16 && (d.Max == 0 || d.Min > d.Max || want.Packed != (d.Max <= 255)) {
			t.Errorf("%s: range %d-%d", r.name, d.Min, d.Max)
		}
		if want.Bits == 32 && r.mode == "I" && (d.Min > d.Max || want.Packed != (d.Max <= 255)) {
			t.Errorf("%s: range %d-%d", r.name, d.Min, d.Max)
		}
		if want.Bits == 16 && want.Grey && !want.Packed && d.Max < 0x8000 {
			t.Errorf("%s: a full-range image with its largest sample %d", r.name, d.Max)
		}
	}
}

// TestCMYKFormula checks Convert's CMYK against Pillow's convert("RGB") on
// 4096 pixels, exactly.
func TestCMYKFormula(t *testing.T) {
	in, err := os.ReadFile("testdata/want/cmyk_table.cmyk")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/want/cmyk_table.rgb")
	if err != nil {
		t.Fatal(err)
	}
	img := &image.CMYK{Pix: in, Stride: 64 * 4, Rect: image.Rect(0, 0, 64, 64)}
	got := Convert(img, 3)
	if mean, worst := diff(got.Pix, want); worst != 0 {
		t.Errorf("CMYK to RGB: mean difference %.3f, worst %d from Pillow", mean, worst)
	}
}
