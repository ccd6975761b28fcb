package transform

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkResize measures PIL-style antialiased bilinear downscaling of a
// 48x40 RGB image to a shorter side of 32 (38x32).
func BenchmarkResize(b *testing.B) {
	m := noise(48, 40, 3, 1)
	b.ReportAllocs()
	for b.Loop() {
		ResizeImage(m, 38, 32, Bilinear)
	}
}

// BenchmarkAugment measures a CIFAR-style training pipeline on a 32x32
// image: pad-4 random crop, flip, jitter, ToTensor and Normalize.
func BenchmarkAugment(b *testing.B) {
	p, err := Parse("randomcrop=32:4:reflect,hflip,jitter=0.2/0.2/0.2,normalize=0.49/0.48/0.45:0.25/0.24/0.26")
	if err != nil {
		b.Fatal(err)
	}
	src := noise(32, 32, 3, 2)
	x := make([]float32, 3*32*32)
	rng := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Tensor(src.Clone(), x, rng); err != nil {
			b.Fatal(err)
		}
	}
}
