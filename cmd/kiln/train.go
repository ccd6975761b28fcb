package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/train"
)

// trainCmd parses the train flags over the defaults (and a --config file,
// which the flags override) and runs training.
func trainCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := train.DefaultConfig()
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kiln train [flags]\n\nTrains a classifier and writes a run directory (config, metrics, checkpoints, test report).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "JSON `file` of settings (keys as in a run's config.json); flags given too override it")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "`folder` with train/ and test/ class folders (or class folders only); empty: the embedded Fashion-MNIST subset")
	fs.StringVar(&cfg.Model, "model", cfg.Model, "model `name`: "+strings.Join(models.Names(), ", "))
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "number of epochs")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "images per batch")
	fs.StringVar(&cfg.Optimizer, "optimizer", cfg.Optimizer, "adam, adamw, sgd or rmsprop")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "learning rate")
	fs.Float64Var(&cfg.Momentum, "momentum", cfg.Momentum, "momentum (sgd, rmsprop)")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", cfg.WeightDecay, "weight decay")
	fs.StringVar(&cfg.Scheduler, "scheduler", cfg.Scheduler, "learning-rate schedule: none, step, cosine or onecycle")
	fs.Float64Var(&cfg.ClipNorm, "clip-norm", cfg.ClipNorm, "clip gradients to this global L2 norm (0: off)")
	fs.Float64Var(&cfg.ValSplit, "val-split", cfg.ValSplit, "fraction of the training images held out for validation")
	fs.IntVar(&cfg.ImageSize, "image-size", cfg.ImageSize, "image folders are resized to this square size")
	fs.IntVar(&cfg.Channels, "channels", cfg.Channels, "1 (grey) or 3 (RGB), for image folders")
	fs.StringVar(&cfg.Augment, "augment", cfg.Augment, "training augmentation `spec`, e.g. randomcrop=32:4,hflip,rotate=10")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: same seed, same run")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "image decoding goroutines")
	fs.IntVar(&cfg.Patience, "patience", cfg.Patience, "stop after this many epochs without a better validation loss (0: never)")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "`folder` that holds run directories")
	fs.StringVar(&cfg.Name, "name", cfg.Name, "run directory name (default: run-<time>); an existing one is never overwritten")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (flags start with --)", fs.Arg(0))}
	}
	if *configPath != "" {
		fileCfg, err := train.LoadConfig(*configPath, train.DefaultConfig())
		if err != nil {
			return usageError{err}
		}
		// Flags set on the command line win over the file.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		flagCfg := cfg
		cfg = fileCfg
		fs.Visit(func(f *flag.Flag) { applyFlag(&cfg, &flagCfg, f.Name) })
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	p := newProgress(stdout)
	_, err := train.Run(ctx, cfg, p, p.step)
	p.done()
	return err
}

// applyFlag copies the setting behind one flag from src to dst.
func applyFlag(dst, src *train.Config, name string) {
	switch name {
	case "data":
		dst.Data = src.Data
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
	case "out":
		dst.Out = src.Out
	case "name":
		dst.Name = src.Name
	}
}

// progress prints log lines, and on a terminal a progress line per epoch
// that redraws in place (images/s, ETA, running loss).
type progress struct {
	w     io.Writer
	tty   bool
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// Write passes log lines through, clearing the progress line first.
func (p *progress) Write(b []byte) (int, error) {
	p.clear()
	return p.w.Write(b)
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *progress) step(s train.StepInfo) {
	if !p.tty || (time.Since(p.last) < 100*time.Millisecond && s.Step != s.Steps) {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := width * s.Step / max(s.Steps, 1)
	ips := float64(s.Images) / s.Elapsed.Seconds()
	eta := time.Duration(float64(s.Elapsed) * float64(s.Steps-s.Step) / float64(s.Step)).Round(time.Second)
	fmt.Fprintf(p.w, "\r\033[Kepoch %d [%s%s] %d/%d  loss %.4f  %.0f img/s  ETA %s",
		s.Epoch, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), s.Step, s.Steps, s.RunningLoss, ips, eta)
	p.drawn = true
}

func (p *progress) done() { p.clear() }
