package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/embedded"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/optim"
)

// Datasets are a run's training, validation and (optional) test sets.
type Datasets struct {
	Train, Val, Test data.Dataset
	Classes          []string
	Shape            []int // one example, [C, H, W]
	Source           string
}

// LoadDatasets resolves cfg.Data: the embedded Fashion-MNIST subset when
// empty, DIR/train and DIR/test when DIR has them, or DIR alone (no test
// set). The validation set is a stratified cfg.ValSplit of the training
// data, drawn with cfg.Seed, and never augmented. Skipped files are reported
// to log.
func LoadDatasets(cfg Config, log io.Writer) (*Datasets, error) {
	var full, plain, test data.Dataset
	ds := &Datasets{}
	if cfg.Data == "" {
		tr, te, err := embedded.FashionMNIST()
		if err != nil {
			return nil, err
		}
		full, plain, test = tr, tr, te
		ds.Source = "embedded Fashion-MNIST subset"
	} else {
		trainDir, testDir := filepath.Join(cfg.Data, "train"), filepath.Join(cfg.Data, "test")
		if st, err := os.Stat(cfg.Data); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--data %s: not a folder (want one with train/ and test/ class folders, or class folders itself)", cfg.Data)
		}
		if st, err := os.Stat(trainDir); err != nil || !st.IsDir() {
			trainDir, testDir = cfg.Data, ""
		}
		resize := fmt.Sprintf("resize=%dx%d", cfg.ImageSize, cfg.ImageSize)
		aug := resize
		if cfg.Augment != "" {
			aug += "," + cfg.Augment
		}
		var err error
		if full, err = openFolder(trainDir, aug, cfg, log); err != nil {
			return nil, err
		}
		plain = full
		if cfg.Augment != "" {
			if plain, err = openFolder(trainDir, resize, cfg, io.Discard); err != nil {
				return nil, err
			}
		}
		if testDir != "" {
			if st, err := os.Stat(testDir); err == nil && st.IsDir() {
				if test, err = openFolder(testDir, resize, cfg, log); err != nil {
					return nil, err
				}
			}
		}
		ds.Source = cfg.Data
	}
	ds.Classes, ds.Shape, ds.Test = full.Classes(), full.Shape(), test
	if test != nil && strings.Join(test.Classes(), "\x00") != strings.Join(ds.Classes, "\x00") {
		return nil, fmt.Errorf("--data %s: the test set's classes %v differ from the training set's %v", cfg.Data, test.Classes(), ds.Classes)
	}
	if cfg.ValSplit == 0 {
		ds.Train = full
		return ds, nil
	}
	labels, err := data.Labels(full)
	if err != nil {
		return nil, err
	}
	parts, err := data.Split(labels, []float64{1 - cfg.ValSplit, cfg.ValSplit}, rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), true)
	if err != nil {
		return nil, fmt.Errorf("--val-split %g: %w", cfg.ValSplit, err)
	}
	if ds.Train, err = data.NewSubset(full, parts[0]); err != nil {
		return nil, err
	}
	if ds.Val, err = data.NewSubset(plain, parts[1]); err != nil {
		return nil, err
	}
	return ds, nil
}

func openFolder(dir, spec string, cfg Config, log io.Writer) (data.Dataset, error) {
	tf, err := transform.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("--augment %q: %w", cfg.Augment, err)
	}
	f, rep, err := imagefolder.Open(dir, imagefolder.Options{Channels: cfg.Channels, Transform: tf, Workers: cfg.Workers})
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(log, rep)
	return f, nil
}

// NewOptimizer builds cfg's optimizer over flat parameters and gradients.
func NewOptimizer(cfg Config, params, grads []float32) optim.Optimizer {
	switch strings.ToLower(cfg.Optimizer) {
	case "sgd":
		return optim.NewSGD(params, grads, optim.SGDConfig{LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay})
	case "rmsprop":
		return optim.NewRMSprop(params, grads, optim.RMSpropConfig{LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay})
	case "adamw":
		return optim.NewAdamW(params, grads, optim.AdamConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay})
	}
	return optim.NewAdam(params, grads, optim.AdamConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay})
}

// newScheduler builds cfg's schedule; steps is the number of batches per epoch.
func newScheduler(cfg Config, opt optim.Optimizer, steps int) (optim.Scheduler, bool, error) {
	switch strings.ToLower(cfg.Scheduler) {
	case "step":
		return optim.NewStepLR(opt, max(cfg.Epochs/3, 1), 0.1), false, nil
	case "cosine":
		return optim.NewCosineAnnealingLR(opt, cfg.Epochs, 0), false, nil
	case "onecycle":
		s, err := optim.NewOneCycleLR(opt, optim.OneCycleConfig{MaxLR: cfg.LR, TotalSteps: cfg.Epochs * steps})
		return s, true, err
	}
	return nil, false, nil
}

// Summary is what a finished run reports.
type Summary struct {
	Dir     string
	History []EpochStats
	Test    *Result // nil without a test set
	Stopped string  // why training ended early, if it did
}

// Run trains cfg's model on cfg's data in a new run directory under cfg.Out,
// writing the resolved config, per-epoch metrics and the last and best
// checkpoints, and evaluates the best model on the test set. Progress goes
// to log; onStep, when not nil, sees every step. Cancelling ctx stops after
// the current step, saves the last checkpoint and returns ctx's error.
func Run(ctx context.Context, cfg Config, log io.Writer, onStep func(StepInfo)) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ds, err := LoadDatasets(cfg, log)
	if err != nil {
		return nil, err
	}
	shape := models.Shape{Channels: ds.Shape[0], Height: ds.Shape[1], Width: ds.Shape[2], Classes: len(ds.Classes)}
	model, err := models.New(cfg.Model, shape, rand.New(rand.NewPCG(cfg.Seed, 0x1217)))
	if err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	dir, err := NewRunDir(cfg.Out, cfg.Name)
	if err != nil {
		return nil, err
	}
	cfg.Name = filepath.Base(dir)
	if err := writeJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
		return nil, err
	}
	ps := model.ParamSet()
	opt := NewOptimizer(cfg, ps.Data, ps.Grad)
	c := NewClassifier(model, ps, nil, opt)
	c.ClipNorm = cfg.ClipNorm
	trainL, err := data.NewLoader(ds.Train, data.LoaderOptions{BatchSize: cfg.BatchSize, Shuffle: true, Seed: cfg.Seed, Workers: cfg.Workers})
	if err != nil {
		return nil, err
	}
	sched, perBatch, err := newScheduler(cfg, opt, trainL.NumBatches())
	if err != nil {
		return nil, err
	}
	evalLoader := func(d data.Dataset) (*data.Loader, error) {
		return data.NewLoader(d, data.LoaderOptions{BatchSize: 256, Workers: cfg.Workers})
	}
	fitCfg := FitConfig{Epochs: cfg.Epochs, Scheduler: sched, PerBatch: perBatch, OnStep: onStep}
	if ds.Val != nil {
		if fitCfg.Val, err = evalLoader(ds.Val); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(log, "kiln: training %s (%d parameters) on %s: %d training, %d validation images of %v, %d classes; run directory %s\n",
		cfg.Model, ps.Len(), ds.Source, ds.Train.Len(), lenOf(ds.Val), ds.Shape, len(ds.Classes), dir)
	meta := map[string]string{"format": "pt", "framework": "kiln", "model": cfg.Model}
	best, sinceBest := math.Inf(1), 0
	metrics := &metricsLog{dir: dir}
	sum := &Summary{Dir: dir}
	fitCfg.OnEpoch = func(st EpochStats) error {
		ips := float64(st.Images) / st.Duration.Seconds()
		line := fmt.Sprintf("Epoch [%d/%d], Loss: %.4f, Acc: %.2f%%", st.Epoch, cfg.Epochs, st.TrainLoss, 100*st.TrainAcc)
		if ds.Val != nil {
			line += fmt.Sprintf(", Val loss: %.4f, Val acc: %.2f%%", st.ValLoss, 100*st.ValAcc)
		}
		fmt.Fprintf(log, "%s, %.0f img/s\n", line, ips)
		if err := metrics.add(st); err != nil {
			return err
		}
		meta["epoch"] = fmt.Sprint(st.Epoch)
		if err := checkpoint.SaveModel(filepath.Join(dir, "last.safetensors"), model, meta); err != nil {
			return err
		}
		score := st.TrainLoss
		if ds.Val != nil {
			score = st.ValLoss
		}
		if score < best {
			best, sinceBest = score, 0
			return checkpoint.SaveModel(filepath.Join(dir, "best.safetensors"), model, meta)
		}
		sinceBest++
		if cfg.Patience > 0 && sinceBest >= cfg.Patience {
			return errEarlyStop
		}
		return nil
	}
	hist, err := Fit(ctx, c, trainL, fitCfg)
	sum.History = hist
	switch {
	case errors.Is(err, errEarlyStop):
		sum.Stopped = fmt.Sprintf("early stopping: no better validation loss for %d epochs", cfg.Patience)
		fmt.Fprintf(log, "kiln: %s\n", sum.Stopped)
	case err != nil && ctx.Err() != nil:
		meta["interrupted"] = "true"
		if serr := checkpoint.SaveModel(filepath.Join(dir, "last.safetensors"), model, meta); serr != nil {
			return sum, serr
		}
		return sum, fmt.Errorf("train: interrupted; the last checkpoint is in %s: %w", dir, err)
	case err != nil:
		return sum, err
	}
	if ds.Test == nil {
		return sum, nil
	}
	if _, err := checkpoint.LoadModel(filepath.Join(dir, "best.safetensors"), model); err != nil {
		return sum, err
	}
	tl, err := evalLoader(ds.Test)
	if err != nil {
		return sum, err
	}
	r, err := Evaluate(ctx, c, tl, ds.Classes)
	if err != nil {
		return sum, err
	}
	sum.Test = &r
	fmt.Fprintf(log, "Test accuracy of the best model: %.2f%% (%d images), loss %.4f\n\n%s", 100*r.Accuracy, r.Confusion.Total(), r.Loss, r.Confusion.Report())
	rep := fmt.Sprintf("test accuracy %.4f, loss %.4f\n\n%s", r.Accuracy, r.Loss, r.Confusion.Report())
	return sum, checkpoint.WriteFileAtomic(filepath.Join(dir, "test_report.txt"), func(w io.Writer) error {
		_, err := io.WriteString(w, rep)
		return err
	})
}

var errEarlyStop = errors.New("train: early stop")

func lenOf(d data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.Len()
}

// NewRunDir creates out/name, or out/run-<time> when name is empty. An
// existing directory is never reused.
func NewRunDir(out, name string) (string, error) {
	if name == "" {
		name = "run-" + time.Now().Format("20060102-150405")
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("--name %q: want a plain folder name", name)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	dir := filepath.Join(out, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("run directory %s already exists; pick another --name (kiln never overwrites a run)", dir)
		}
		return "", fmt.Errorf("--out: %w", err)
	}
	return dir, nil
}

func writeJSON(path string, v any) error {
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// metricsLog keeps metrics.csv and metrics.jsonl, rewritten atomically
// after every epoch so that a killed run leaves them whole.
type metricsLog struct {
	dir  string
	rows []EpochStats
}

func (m *metricsLog) add(st EpochStats) error {
	m.rows = append(m.rows, st)
	if err := checkpoint.WriteFileAtomic(filepath.Join(m.dir, "metrics.csv"), func(w io.Writer) error {
		fmt.Fprintln(w, "epoch,train_loss,train_acc,val_loss,val_acc,lr,images,seconds")
		for _, r := range m.rows {
			fmt.Fprintf(w, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%.3f\n", r.Epoch, r.TrainLoss, r.TrainAcc, r.ValLoss, r.ValAcc, r.LR, r.Images, r.Duration.Seconds())
		}
		return nil
	}); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(m.dir, "metrics.jsonl"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range m.rows {
			if err := enc.Encode(map[string]any{"epoch": r.Epoch, "train_loss": r.TrainLoss, "train_acc": r.TrainAcc,
				"val_loss": r.ValLoss, "val_acc": r.ValAcc, "lr": r.LR, "images": r.Images, "seconds": r.Duration.Seconds()}); err != nil {
				return err
			}
		}
		return nil
	})
}
