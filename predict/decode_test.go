package predict

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/run"
)

// TestPredictDecodesAsTheRun checks that a run's --decode applies to its
// predictions: with "pil" a full-range 16-bit grey image is Pillow's white
// picture, by default it is the picture itself.
func TestPredictDecodesAsTheRun(t *testing.T) {
	sum := trainRun(t, run.TaskClassify, "mlp")
	m, err := LoadTrained(sum.Dir, "best")
	if err != nil {
		t.Fatal(err)
	}
	full := "../data/imagefolder/testdata/img/m_i16_full.png" // made by its make.py: 16x12, over the whole 16-bit range
	white := image.NewGray(image.Rect(0, 0, 16, 12))
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	var buf bytes.Buffer
	png.Encode(&buf, white)
	whitePath := filepath.Join(t.TempDir(), "white.png")
	if err := os.WriteFile(whitePath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	predict := func(decode, path string) []float64 {
		m.Config.Decode = decode
		p, err := m.PredictFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if !slices.Equal(predict("pil", full), predict("pil", whitePath)) {
		t.Error(`with "pil" the full-range 16-bit image is not predicted as white`)
	}
	if slices.Equal(predict("", full), predict("", whitePath)) {
		t.Error("by default the full-range 16-bit image is predicted as white")
	}
}
