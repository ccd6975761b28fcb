package main

// This file defines the training-setting flags that kiln cv and kiln tune
// share with kiln train, and merges them over a --config file. It leaves
// out each command's own flags (--folds, --space, ...), --out and --name.

import (
	"flag"
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
)

// addTrainFlags defines the flags of every setting of cfg that a training
// run takes, as kiln train names them, with cfg's values as defaults.
// TestTrainFlagsShared checks that it stays in step with kiln train.
func addTrainFlags(fs *flag.FlagSet, cfg *run.Config) {
	fs.StringVar(&cfg.Data, "data", cfg.Data, "`folder` with train/ and test/ class folders (or class folders only) of images or .txt files, or a label<TAB>text lines file; --task lm: a text file or folder of them; empty: the embedded Fashion-MNIST subset")
	fs.StringVar(&cfg.Task, "task", cfg.Task, "classify, autoencode (reconstruct the images; no labels needed) or lm (a character-level language model of a text); cv and tune score classify only")
	fs.StringVar(&cfg.Model, "model", cfg.Model, "model `name`: "+strings.Join(models.Names(), ", ")+"; with --task autoencode: "+
		strings.Join(models.AutoencoderNames(), ", ")+" (default conv-ae); text data: "+strings.Join(models.TextNames(), ", ")+
		" (default lstm-classifier); --task lm: "+models.CharLMName+"; or an architecture FILE.json of layers (conv2d, linear, relu, maxpool2d, batchnorm2d, dropout, flatten ...), kept in config.json")
	fs.StringVar(&cfg.ClassNames, "classes", cfg.ClassNames, "class `names` for IDX or CIFAR data, comma-separated in label order, or a number N for 0..N-1")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "number of epochs")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "images per batch")
	fs.StringVar(&cfg.Optimizer, "optimizer", cfg.Optimizer, "adam, adamw, sgd or rmsprop")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "learning rate")
	fs.Float64Var(&cfg.Momentum, "momentum", cfg.Momentum, "momentum (sgd, rmsprop)")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", cfg.WeightDecay, "weight decay")
	fs.StringVar(&cfg.Scheduler, "scheduler", cfg.Scheduler, "learning-rate schedule: none, step (x0.1 every third of the epochs), cosine or onecycle")
	fs.Float64Var(&cfg.ClipNorm, "clip-norm", cfg.ClipNorm, "clip gradients to this global L2 norm (0: off)")
	fs.Float64Var(&cfg.ValSplit, "val-split", cfg.ValSplit, "fraction of the training images held out for validation")
	fs.IntVar(&cfg.ImageSize, "image-size", cfg.ImageSize, "image folders are resized to this square size")
	fs.IntVar(&cfg.Channels, "channels", cfg.Channels, "1 (grey) or 3 (RGB), for image folders")
	fs.StringVar(&cfg.Augment, "augment", cfg.Augment, "training augmentation `spec`, e.g. randomcrop=32:4,hflip,rotate=10")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: same seed, same runs")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "image decoding goroutines (the result does not depend on it)")
	fs.IntVar(&cfg.Patience, "patience", cfg.Patience, "stop after this many epochs without a better validation loss (0: never)")
	fs.IntVar(&cfg.CheckpointEvery, "checkpoint-every", cfg.CheckpointEvery, "also save the training state every this many steps (0: after each epoch only)")
	fs.BoolVar(&cfg.Strict, "strict", cfg.Strict, "image folders: stop on a file that does not decode instead of skipping and reporting it")
	fs.StringVar(&cfg.Decode, "decode", cfg.Decode, "image files: view (default: 16-bit grey as an image viewer shows it) or pil (exactly as Pillow converts it, for parity with a torchvision pipeline)")
	fs.StringVar(&cfg.Device, "device", cfg.Device, "where the training steps run: cpu (default: the engine), cpu-backend (the device path on the CPU, the engine's bits) or cuda (an NVIDIA GPU: a kiln built with go build -tags cuda ./cmd/kiln)")
	fs.BoolVar(&cfg.TF32, "tf32", cfg.TF32, tf32Usage)
	fs.StringVar(&cfg.Init, "init", cfg.Init, "start from the weights in this safetensors `file` (a kiln run's best/last.safetensors, or a PyTorch state_dict with the model's names and shapes) instead of random ones")
	fs.StringVar(&cfg.Tokenize, "tokenize", cfg.Tokenize, "text data: split texts into char or word tokens (default char)")
	fs.BoolVar(&cfg.Lowercase, "lowercase", cfg.Lowercase, "text data: lower-case texts before tokenising")
	fs.IntVar(&cfg.MaxLen, "max-len", cfg.MaxLen, "text data: tokens kept per text (0: enough for 99% of the training texts)")
	fs.IntVar(&cfg.MinFreq, "min-freq", cfg.MinFreq, "text data: tokens seen fewer times in the training texts become <unk> (0 means 1)")
	fs.Float64Var(&cfg.TestSplit, "test-split", cfg.TestSplit, "text data without a test/ folder: fraction held out as the test set (--task lm: the end of the text)")
	fs.IntVar(&cfg.SeqLen, "seq-len", cfg.SeqLen, fmt.Sprintf("--task lm: characters per training window (0 means %d)", run.DefaultSeqLen))
	fs.IntVar(&cfg.EmbedDim, "embed-dim", cfg.EmbedDim, "text models: embedding size (0: the model's default)")
	fs.IntVar(&cfg.Hidden, "hidden", cfg.Hidden, "text models: recurrent units per layer and direction (0: the model's default)")
	fs.IntVar(&cfg.Layers, "layers", cfg.Layers, "text models: stacked recurrent layers (0: the model's default)")
	addDPFlags(fs, cfg)
}

// mergeConfig returns the settings of a --config file (path, if given)
// with the flags that were set on the command line over them, and the
// set of flags given. cfg holds the defaults and the flags' values.
func mergeConfig(fs *flag.FlagSet, cfg run.Config, path string) (run.Config, map[string]bool, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if path == "" {
		textDefaults(&cfg, set)
		cfg.SetDPDefaults()
		return cfg, set, nil
	}
	fileCfg, err := run.LoadConfig(path, run.DefaultConfig())
	if err != nil {
		return cfg, set, fmt.Errorf("--config: %w", err)
	}
	flagCfg := cfg
	cfg = fileCfg
	fs.Visit(func(f *flag.Flag) { applyFlag(&cfg, &flagCfg, f.Name) })
	textDefaults(&cfg, set)
	cfg.SetDPDefaults()
	return cfg, set, nil
}
