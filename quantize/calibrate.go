package quantize

// This file holds the calibration set: image files under a folder (any
// layout, class folders or not), a spread of them decoded and transformed
// as the run's evaluation transform does. It leaves out labels, which
// calibration does not need.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
)

// imageExts are the file extensions calibration reads.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".tif": true, ".tiff": true,
	".webp": true, ".pgm": true, ".ppm": true, ".pnm": true}

// Images returns up to n examples of shape [C, H, W] from the image files
// under dir, spread evenly over the files in name order (so that class
// folders are all sampled), decoded to C channels and transformed by
// spec; and how many it read.
func Images(dir string, n int, shape []int, spec string) ([]float32, int, error) {
	if len(shape) != 3 || n < 1 {
		return nil, 0, fmt.Errorf("quantize: calibration of %d images of shape %v", n, shape)
	}
	tf, err := transform.Parse(spec)
	if err != nil {
		return nil, 0, fmt.Errorf("quantize: transform %q: %w", spec, err)
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && imageExts[strings.ToLower(filepath.Ext(path))] {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("quantize: --calib: %w", err)
	}
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("quantize: --calib %s holds no image files", dir)
	}
	sort.Strings(files)
	take := min(n, len(files))
	size := shape[0] * shape[1] * shape[2]
	x := make([]float32, take*size)
	for i := range take {
		path := files[i*len(files)/take]
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, 0, fmt.Errorf("quantize: %w", err)
		}
		img, err := imagefolder.Decode(b, shape[0], 0)
		if err != nil {
			return nil, 0, fmt.Errorf("quantize: calibration image %s: %w", path, err)
		}
		if err := tf.Tensor(img, x[i*size:(i+1)*size], nil); err != nil {
			return nil, 0, fmt.Errorf("quantize: calibration image %s: %w", path, err)
		}
	}
	return x, take, nil
}
