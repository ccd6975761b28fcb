package main

// This file holds "kiln train": its flags, the config file and --resume. It
// leaves out training itself (package train) and drawing progress
// (progress.go).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
)

const trainHead = `Usage: kiln train [flags]
       kiln train --resume RUN [--workers N] [--data DIR] [--checkpoint-every N] [--epochs N]

Trains a classifier (or, with --task autoencode, an autoencoder) and writes
a run directory (--out/--name): config.json, run.json, metrics.csv,
metrics.jsonl, TensorBoard events, loss.png, accuracy.png, last.safetensors,
best.safetensors, state.safetensors, and at the end test_report.txt and
confusion.png.

Data: --data DIR is recognised by its files:
  DIR/train/<class>/* and DIR/test/<class>/*, or DIR/<class>/*   image files (no test set without test/)
  train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz], ...  IDX (MNIST, Fashion-MNIST)
  data_batch_1.bin ... test_batch.bin, batches.meta.txt          CIFAR-10 binary (kiln data fetch cifar10)
  train.bin, test.bin, fine_label_names.txt                      CIFAR-100 binary
Image files are converted to --channels and resized to --image-size; IDX and
CIFAR images keep their own size and channels. IDX files carry no class
names: Fashion-MNIST's are used when the folder's path says "fashion",
digits otherwise, or --classes. --val-split of the training images is held
out for validation. Without --data, kiln trains on its embedded
Fashion-MNIST subset (4,000 training and 1,000 test images).

Text: class folders of .txt files (DIR/<class>/*.txt, or DIR/train/<class>/...
and DIR/test/<class>/...) or a file of "label<TAB>text" lines train
lstm-classifier (the default for text) or gru-classifier. Texts are split
into --tokenize char or word tokens; the vocabulary is built from the
training texts alone (tokens seen fewer than --min-freq times become <unk>)
and saved with the length (--max-len) in RUN/encoder.json, which eval and
predict use. Data without a test/ folder hold out --test-split of the texts
for the test set. --embed-dim, --hidden and --layers resize the model.

Language models: --task lm trains char-lm (embedding, LSTM, linear) to
predict every next character of a text file (or a folder of .txt files) in
windows of --seq-len characters. The end of the text is held out: the last
--test-split for the test, the --val-split before it for validation; the
losses are also given in bits per character. The run directory gets
sample.txt; "kiln sample RUN" generates more.

Autoencoders: --task autoencode trains conv-ae (or the denoising conv-dae)
to reconstruct its inputs; labels are not needed (a folder of image files
without class folders will do) and colour the feature plot when present.
The run directory also gets reconstructions.png, features.safetensors,
features.csv and features_pca.png, for the test set (else the validation
set).

Ctrl-C stops after the current step and saves the training state; --resume
RUN continues exactly where it stopped (with the same seed, the result is
bit-identical to an uninterrupted run). The state is also saved after every
epoch and every --checkpoint-every steps, so a killed run loses at most that.

A --config file (JSON, or YAML if it ends in .yaml/.yml) takes the keys of a
run's config.json, e.g. {"epochs": 20, "lr": 0.0005}; flags override it.
`

// resumeFlags may be given with --resume; every other setting is the run's.
var resumeFlags = map[string]bool{"resume": true, "workers": true, "data": true, "checkpoint-every": true, "epochs": true,
	"dist-timeout": true, "dist-check": true, "dist-bucket-kb": true, "device": true, "tf32": true}

// trainCmd parses the train flags over the defaults (and a --config file,
// which the flags override) and runs or resumes training.
func trainCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := run.DefaultConfig()
	fs := newFlagSet("train")
	configPath := fs.String("config", "", "JSON or YAML `file` of settings (keys as in a run's config.json); flags given too override it")
	resume := fs.String("resume", "", "continue the run in directory `RUN` from its last checkpoint")
	finetune := fs.String("finetune", "", "train a new run from `RUN`'s best weights on its data plus the feedback kiln serve stored in RUN/feedback/")
	addTrainFlags(fs, &cfg)
	df := addDistFlags(fs, &cfg)
	fs.StringVar(&cfg.Out, "out", cfg.Out, "`folder` that holds run directories")
	fs.StringVar(&cfg.Name, "name", cfg.Name, "run directory name (default: run-<time>); an existing one is never overwritten")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, trainHead+dpHelp+distHelp, stdout)
			return nil
		}
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (train takes only flags, which start with --)", pos[0])}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	opt := task.Options{Version: versionString()}
	if *resume != "" {
		var bad []string
		for name := range set {
			if !resumeFlags[name] {
				bad = append(bad, "--"+name)
			}
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			return usageError{fmt.Errorf("%s: a resumed run keeps its own settings; with --resume only --workers, --data, --checkpoint-every and --epochs may be given",
				strings.Join(bad, ", "))}
		}
		saved, err := run.ReadRunConfig(*resume)
		if err != nil {
			return usageError{fmt.Errorf("--resume: %w", err)}
		}
		flagCfg := cfg
		cfg = saved
		fs.Visit(func(f *flag.Flag) { applyFlag(&cfg, &flagCfg, f.Name) })
		j, err := joinJob(df, &opt)
		if err != nil {
			return err
		}
		if opt.Backend, err = openDevice(cfg); err != nil {
			return err
		}
		p := newProgress(stdout)
		if !j.quiet() {
			opt.Log, opt.OnStep = p, p.step
		}
		_, err = task.Resume(ctx, *resume, cfg, opt)
		p.done()
		closeDevice(opt.Backend, &err)
		return j.end(err, stderr)
	}
	if *finetune != "" {
		if *configPath != "" {
			return usageError{fmt.Errorf("--finetune and --config: a fine-tuning run takes its run's settings and the flags given")}
		}
		var n int
		if cfg, n, err = finetuneConfig(*finetune, cfg, set); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "fine-tuning %s (from %s) on %s: its data and %d feedback files\n", *finetune, cfg.Init, cfg.Data, n)
	}
	if *configPath != "" {
		fileCfg, err := run.LoadConfig(*configPath, run.DefaultConfig())
		if err != nil {
			return usageError{fmt.Errorf("--config: %w", err)}
		}
		flagCfg := cfg
		cfg = fileCfg
		fs.Visit(func(f *flag.Flag) { applyFlag(&cfg, &flagCfg, f.Name) })
	}
	if cfg.Task == run.TaskAutoencode && !set["model"] && cfg.Model == run.DefaultConfig().Model {
		cfg.Model = "conv-ae" // the classifier default means "not chosen" here
	}
	textDefaults(&cfg, set)
	cfg.SetDPDefaults()
	if err := dpFlagsAgree(set); err != nil {
		return usageError{err}
	}
	if err := cfg.ReadArchitecture(); err != nil {
		return usageError{err}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	j, err := joinJob(df, &opt)
	if err != nil {
		return err
	}
	if opt.Backend, err = openDevice(cfg); err != nil {
		return err
	}
	p := newProgress(stdout)
	if !j.quiet() {
		opt.Log, opt.OnStep = p, p.step
	}
	_, err = task.Run(ctx, cfg, opt)
	p.done()
	closeDevice(opt.Backend, &err)
	return j.end(err, stderr)
}

// applyFlag copies the setting behind one flag from src to dst.
func applyFlag(dst, src *run.Config, name string) {
	switch name {
	case "data":
		dst.Data = src.Data
	case "task":
		dst.Task = src.Task
	case "classes":
		dst.ClassNames = src.ClassNames
	case "model":
		dst.Model = src.Model
	case "epochs":
		dst.Epochs = src.Epochs
	case "batch-size":
		dst.BatchSize = src.BatchSize
	case "optimizer":
		dst.Optimizer = src.Optimizer
	case "lr":
		dst.LR = src.LR
	case "momentum":
		dst.Momentum = src.Momentum
	case "weight-decay":
		dst.WeightDecay = src.WeightDecay
	case "scheduler":
		dst.Scheduler = src.Scheduler
	case "clip-norm":
		dst.ClipNorm = src.ClipNorm
	case "sync-bn":
		dst.SyncBN = src.SyncBN
	case "val-split":
		dst.ValSplit = src.ValSplit
	case "image-size":
		dst.ImageSize = src.ImageSize
	case "channels":
		dst.Channels = src.Channels
	case "augment":
		dst.Augment = src.Augment
	case "seed":
		dst.Seed = src.Seed
	case "workers":
		dst.Workers = src.Workers
	case "patience":
		dst.Patience = src.Patience
	case "checkpoint-every":
		dst.CheckpointEvery = src.CheckpointEvery
	case "strict":
		dst.Strict = src.Strict
	case "decode":
		dst.Decode = src.Decode
	case "init":
		dst.Init = src.Init
	case "dp", "max-grad-norm", "noise-multiplier", "target-epsilon", "delta":
		applyDPFlag(dst, src, name)
	case "device":
		dst.Device = src.Device
	case "tf32":
		dst.TF32 = src.TF32
	case "out":
		dst.Out = src.Out
	case "name":
		dst.Name = src.Name
	default:
		applyTextFlag(dst, src, name)
	}
}
