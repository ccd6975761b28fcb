package imagefolder

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/transform"
)

// photo returns a w×h image with smooth structure and some noise, so JPEG
// compresses it about as much as a photograph.
func photo(w, h int, r *rand.Rand) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	fx, fy := r.Float64()*0.3, r.Float64()*0.3
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := r.IntN(24)
			m.Set(x, y, color.NRGBA{
				uint8(128 + 100*sin(float64(x)*fx) + float64(n)),
				uint8(128 + 100*sin(float64(y)*fy) + float64(n)),
				uint8(64 + (x+y)*2%128 + n), 255})
		}
	}
	return m
}

func sin(v float64) float64 { // a cheap smooth wave; the shape does not matter
	v -= float64(int(v/6.283)) * 6.283
	return (v - 3.14) * (3.14 - v) / 9.86 * 0.9
}

// benchRoot returns $KILN_BENCH_IMAGEFOLDER, or a generated folder of 10
// classes of 48x40 JPEGs.
func benchRoot(b *testing.B) string {
	if root := os.Getenv("KILN_BENCH_IMAGEFOLDER"); root != "" {
		return root
	}
	root := b.TempDir()
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 640; i++ {
		write(b, filepath.Join(root, fmt.Sprintf("class%d/%04d.jpg", i%10, i)), encode(b, "jpg", photo(48, 40, r)))
	}
	return root
}

// BenchmarkImageFolder measures the whole input pipeline, JPEG decoding,
// Resize(32), CenterCrop(32) and ToTensor, through the Loader in batches of
// 128, in images per second for 1 and 2 workers, and in CPU microseconds
// per image (which a busy machine does not inflate). By default it runs on 640
// generated 48x40 JPEGs; set KILN_BENCH_IMAGEFOLDER to a folder (such as the
// CIFAR-10 JPEGs in /tmp/cifar10/train) to measure real data.
func BenchmarkImageFolder(b *testing.B) {
	p, err := transform.Parse("resize=32,centercrop=32")
	if err != nil {
		b.Fatal(err)
	}
	f, rep, err := Open(benchRoot(b), Options{Transform: p})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s", rep)
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			l, err := data.NewLoader(f, data.LoaderOptions{BatchSize: 128, Shuffle: true, Workers: w})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			start, cpu0 := time.Now(), cpuTime()
			images := 0
			for epoch := 0; images < b.N; epoch++ {
				it, err := l.Epoch(context.Background(), epoch, 0)
				if err != nil {
					b.Fatal(err)
				}
				for images < b.N && it.Next() {
					images += len(it.Batch().Y)
				}
				if err := it.Err(); err != nil {
					b.Fatal(err)
				}
				it.Close()
			}
			b.ReportMetric(float64(images)/time.Since(start).Seconds(), "images/s")
			// CPU time spent per image across all goroutines: the cost that
			// does not change with how busy the machine is.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(images), "cpu-µs/image")
		})
	}
}

// BenchmarkDecodeJPEG measures decoding and conversion of one 48x40 JPEG.
func BenchmarkDecodeJPEG(b *testing.B) {
	jpg := encode(b, "jpg", photo(48, 40, rand.New(rand.NewPCG(2, 2))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(jpg, 3, 0); err != nil {
			b.Fatal(err)
		}
	}
}
