package synth

// This file writes a synthetic set to disk as an image folder, so that
// tests and demos can exercise the code that reads real files.

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// WriteFolder writes the first n grey 16x16 images of New(n, 1, 16, 16,
// seed) whose class is below classes as PNGs into dir/<class>/NNN.png (the
// ImageFolder layout) and returns the paths written, in order.
func WriteFolder(dir string, n int, seed uint64, classes int) ([]string, error) {
	ds := New(n, 1, 16, 16, seed)
	x := make([]float32, 16*16)
	var paths []string
	for i := range n {
		y, err := ds.Get(i, x, nil)
		if err != nil {
			return paths, err
		}
		if y >= classes {
			continue
		}
		img := image.NewGray(image.Rect(0, 0, 16, 16))
		for j, v := range x {
			img.Pix[j] = uint8(255 * min(max(v, 0), 1))
		}
		sub := filepath.Join(dir, Classes[y])
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return paths, err
		}
		path := filepath.Join(sub, fmt.Sprintf("%03d.png", i))
		f, err := os.Create(path)
		if err != nil {
			return paths, err
		}
		err = png.Encode(f, img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return paths, fmt.Errorf("synth: %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
