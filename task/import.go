package task

// This file holds Import: weights trained elsewhere (PyTorch's state_dict
// as safetensors) turned into a run directory that eval, predict and
// export take like a trained one. It leaves out other file formats
// (PyTorch's pickled .pt files need an unpickler) and renaming tensors
// between architectures that differ only in names.

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
)

// ImportOptions say what a weights file holds. The classes and input shape
// come from Data, or from Shape and Classes.
type ImportOptions struct {
	Model   string   // zoo name of the architecture, e.g. "seed-cnn"
	Data    string   // a data folder like the one the model was trained on (its test set becomes the run's)
	Shape   []int    // [C, H, W] of the inputs; with an image folder as Data, the channels and (square) size to decode to
	Classes []string // the names of the model's outputs, in order; with IDX or CIFAR Data, names for their labels
	Version string   // kiln's version, recorded in run.json
	Workers int      // goroutines checking image files
}

// Import loads the weights in path into a new model of opt.Model and
// writes the run directory dir: config.json, run.json, best.safetensors
// and last.safetensors (the same weights, as float32). Weights whose names,
// shapes or dtypes do not fit the model are refused before anything is
// written, and dir must not exist yet.
func Import(path, dir string, opt ImportOptions) (run.RunInfo, error) {
	var info run.RunInfo
	if run.Exists(dir) {
		return info, fmt.Errorf("--out %s already exists; pick another run directory (kiln never overwrites a run)", dir)
	}
	cfg := run.DefaultConfig()
	cfg.Model, cfg.Data, cfg.Epochs, cfg.ValSplit = opt.Model, opt.Data, 0, 0
	if opt.Workers > 0 {
		cfg.Workers = opt.Workers
	}
	var classes []string
	var shape []int
	from := "imported from " + path
	if opt.Data != "" {
		if len(opt.Shape) == 3 {
			if opt.Shape[1] != opt.Shape[2] {
				return info, fmt.Errorf("--shape %v: image folders are resized to squares; want C,N,N", opt.Shape)
			}
			cfg.Channels, cfg.ImageSize = opt.Shape[0], opt.Shape[1]
		}
		cfg.ClassNames = strings.Join(opt.Classes, ",")
		ds, err := source.LoadDatasets(cfg, io.Discard)
		if err != nil {
			return info, err
		}
		if len(opt.Shape) == 3 && !slices.Equal(opt.Shape, ds.Shape) {
			return info, fmt.Errorf("--shape %v: the data in %s are %v", opt.Shape, opt.Data, ds.Shape)
		}
		classes, shape, from = ds.Classes, ds.Shape, ds.Source
	} else {
		if len(opt.Shape) != 3 || len(opt.Classes) < 2 {
			return info, errors.New("import: name the data the model was trained on (--data), or its input shape (--shape C,H,W) and classes (--classes)")
		}
		classes, shape = opt.Classes, opt.Shape
		cfg.Channels, cfg.ImageSize = shape[0], shape[1]
	}
	model, err := buildModel(run.TaskClassify, opt.Model, shape, len(classes), rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return info, fmt.Errorf("--model: %w", err)
	}
	meta, err := checkpoint.LoadModel(path, model)
	if err != nil {
		return info, fmt.Errorf("%w (kiln built %s for %v inputs and %d classes; check --model, --shape, --classes or --data)", err, opt.Model, shape, len(classes))
	}
	nn.SetTraining(model, false)
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	info = run.RunInfo{Task: run.TaskClassify, Model: opt.Model, Classes: classes, InputShape: shape, Transform: source.EvalTransform(shape), Source: from,
		Parameters: model.ParamSet().Len(), Version: opt.Version, Started: time.Now().Format(time.RFC3339), Imported: abs}
	cfg.Out, cfg.Name = filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return info, fmt.Errorf("--out: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return info, fmt.Errorf("--out %s already exists; pick another run directory (kiln never overwrites a run)", dir)
		}
		return info, fmt.Errorf("--out: %w", err)
	}
	md := modelMetadata(info)
	md["imported_from"] = filepath.Base(path)
	if f := meta["framework"]; f != "" {
		md["imported_framework"] = f
	}
	err = run.WriteJSON(filepath.Join(dir, run.ConfigFile), cfg)
	if err == nil {
		err = run.WriteJSON(filepath.Join(dir, run.InfoFile), info)
	}
	for _, f := range []string{run.BestFile, run.LastFile} {
		if err == nil {
			err = checkpoint.SaveModel(filepath.Join(dir, f), model, md)
		}
	}
	if err != nil {
		os.RemoveAll(dir) // ours: made above, and only half written
		return info, err
	}
	return info, nil
}
