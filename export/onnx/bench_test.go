package onnx

import (
	"io"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/models"
)

// BenchmarkExportSeedCNN measures exporting the 32x32 SeedCNN (about 1 MB
// of weights) to a discarding writer.
func BenchmarkExportSeedCNN(b *testing.B) {
	m, err := models.NewSeedCNN(models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}, 0.2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Export(io.Discard, m, []int{1, 3, 32, 32}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
