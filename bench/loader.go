package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
)

// LoaderReport is the input pipeline's throughput on an image folder.
type LoaderReport struct {
	Dir       string  `json:"dir"`
	Images    int     `json:"images"`
	Workers   int     `json:"workers"`
	Batch     int     `json:"batch"`
	Seconds   float64 `json:"seconds"`
	ImgPerS   float64 `json:"img_per_s"`
	Decoded   int     `json:"decoded"`
	Transform string  `json:"transform"`
}

// Loader times one shuffled epoch of decoding, Resize((size, size)) and
// ToTensor over the image folder dir with the given number of workers and
// batch size: the pipeline of seed_pytorch.py's ImageFolder + DataLoader.
// Opening the folder (listing and checking file headers) is not timed, as
// torchvision's ImageFolder constructor is not timed either.
func Loader(ctx context.Context, dir string, size, workers, batch int) (*LoaderReport, error) {
	spec := fmt.Sprintf("resize=%dx%d", size, size)
	tf, err := transform.Parse(spec)
	if err != nil {
		return nil, err
	}
	f, _, err := imagefolder.Open(dir, imagefolder.Options{Transform: tf, Workers: max(workers, 1)})
	if err != nil {
		return nil, err
	}
	l, err := data.NewLoader(f, data.LoaderOptions{BatchSize: batch, Shuffle: true, Workers: workers})
	if err != nil {
		return nil, err
	}
	r := &LoaderReport{Dir: dir, Images: f.Len(), Workers: workers, Batch: batch, Transform: spec + ",totensor"}
	t := time.Now()
	it, err := l.Epoch(ctx, 0, 0)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var sink float32
	for it.Next() {
		b := it.Batch()
		sink += b.X[0]
		r.Decoded += len(b.Y)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	r.Seconds = time.Since(t).Seconds()
	r.ImgPerS = float64(r.Decoded) / r.Seconds
	_ = sink
	return r, nil
}
