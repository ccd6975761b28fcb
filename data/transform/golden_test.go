package transform

import (
	"encoding/binary"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// goldenCase is one entry of testdata/cases.json, written by testdata/make.py.
type goldenCase struct {
	Name   string `json:"name"`
	Op     string `json:"op"`
	Input  string `json:"input"`
	Output string `json:"output"`
	Shape  []int  `json:"shape"`
	Args   struct {
		Size        []int     `json:"size"`
		Interp      string    `json:"interp"`
		Channels    int       `json:"channels"`
		Mean        []float32 `json:"mean"`
		Std         []float32 `json:"std"`
		Angle       float64   `json:"angle"`
		Fill        []uint8   `json:"fill"`
		Padding     any       `json:"padding"`
		Mode        string    `json:"mode"`
		PadIfNeeded bool      `json:"pad_if_needed"`
		Top         int       `json:"top"`
		Left        int       `json:"left"`
		H           int       `json:"h"`
		W           int       `json:"w"`
		Factor      float64   `json:"factor"`
	} `json:"args"`
}

// loadPNG reads an 8-bit gray or RGB PNG into an Image.
func loadPNG(t *testing.T, path string) *Image {
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
	b := img.Bounds()
	switch src := img.(type) {
	case *image.Gray:
		m := NewImage(b.Dx(), b.Dy(), 1)
		for y := 0; y < b.Dy(); y++ {
			copy(m.Pix[y*m.W:], src.Pix[y*src.Stride:y*src.Stride+b.Dx()])
		}
		return m
	case *image.RGBA:
		m := NewImage(b.Dx(), b.Dy(), 3)
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				p := src.Pix[y*src.Stride+4*x:]
				copy(m.Pix[(y*m.W+x)*3:], p[:3])
			}
		}
		return m
	}
	t.Fatalf("%s: unexpected PNG type %T", path, img)
	return nil
}

func interpOf(t *testing.T, s string) Interpolation {
	t.Helper()
	i, ok := parseInterp(s)
	if !ok {
		t.Fatalf("interpolation %q", s)
	}
	return i
}

// runGolden applies the Go counterpart of a case's torchvision call; it
// returns either an image or a tensor.
func runGolden(t *testing.T, c goldenCase, m *Image) (*Image, []float32) {
	a := c.Args
	switch c.Op {
	case "resize":
		r := Resize{Interp: interpOf(t, a.Interp)}
		if len(a.Size) == 1 {
			r.Size = a.Size[0]
		} else {
			r.H, r.W = a.Size[0], a.Size[1]
		}
		return r.Apply(m, nil), nil
	case "center_crop":
		return CenterCrop{H: a.Size[0], W: a.Size[1]}.Apply(m, nil), nil
	case "grayscale":
		return Grayscale{Channels: a.Channels}.Apply(m, nil), nil
	case "to_tensor", "normalize":
		x := make([]float32, m.W*m.H*m.C)
		ToTensor(m, x)
		if c.Op == "normalize" {
			Normalize{Mean: a.Mean, Std: a.Std}.Apply(x, m.C)
		}
		return nil, x
	case "hflip":
		return HFlip(m), nil
	case "vflip":
		return VFlip(m), nil
	case "rotate":
		return Rotate(m, a.Angle, interpOf(t, a.Interp), a.Fill), nil
	case "pad":
		p := a.Padding.([]any)
		mode, _ := parsePadMode(a.Mode)
		return Pad(m, int(p[0].(float64)), int(p[1].(float64)), int(p[2].(float64)), int(p[3].(float64)), mode, a.Fill), nil
	case "crop":
		return Crop(m, a.Top, a.Left, a.H, a.W), nil
	case "random_crop":
		mode, _ := parsePadMode(a.Mode)
		rc := RandomCrop{H: a.Size[0], W: a.Size[1], PadIfNeeded: a.PadIfNeeded, Mode: mode}
		if p, ok := a.Padding.(float64); ok {
			rc.Padding = [4]int{int(p), int(p), int(p), int(p)}
		}
		return Crop(rc.pad(m), a.Top, a.Left, rc.H, rc.W), nil
	case "resized_crop":
		return ResizeImage(Crop(m, a.Top, a.Left, a.H, a.W), a.Size[1], a.Size[0], interpOf(t, a.Interp)), nil
	case "brightness":
		return AdjustBrightness(m, a.Factor), nil
	case "contrast":
		return AdjustContrast(m, a.Factor), nil
	case "saturation":
		return AdjustSaturation(m, a.Factor), nil
	case "hue":
		return AdjustHue(m, a.Factor), nil
	}
	t.Fatalf("unknown op %q", c.Op)
	return nil, nil
}

// TestGolden compares every case of testdata/cases.json with torchvision's
// output. 8-bit results must match PIL's bytes exactly; tensors must match
// to float32 rounding.
func TestGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct{ Cases []goldenCase }
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest.Cases) < 50 {
		t.Fatalf("only %d golden cases", len(manifest.Cases))
	}
	for _, c := range manifest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := loadPNG(t, filepath.Join("testdata", c.Input))
			got, gotX := runGolden(t, c, in)
			path := filepath.Join("testdata", c.Output)
			if gotX != nil {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if len(b) != 4*len(gotX) {
					t.Fatalf("got %d values, want %d", len(gotX), len(b)/4)
				}
				for i, g := range gotX {
					w := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
					if math.Abs(float64(g-w)) > 1e-6 {
						t.Fatalf("value %d: got %v, want %v", i, g, w)
					}
				}
				return
			}
			want := loadPNG(t, path)
			if got.W != want.W || got.H != want.H || got.C != want.C {
				t.Fatalf("got %dx%dx%d, want %dx%dx%d", got.W, got.H, got.C, want.W, want.H, want.C)
			}
			bad, worst := 0, 0
			for i := range got.Pix {
				d := int(got.Pix[i]) - int(want.Pix[i])
				if d != 0 {
					if bad == 0 {
						t.Logf("first difference at byte %d (x=%d y=%d c=%d): got %d want %d",
							i, i/got.C%got.W, i/got.C/got.W, i%got.C, got.Pix[i], want.Pix[i])
					}
					bad++
					worst = max(worst, d, -d)
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d bytes differ from torchvision, worst by %d", bad, len(got.Pix), worst)
			}
		})
	}
}
