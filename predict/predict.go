package predict

// This file loads a finished run for inference: eval on a dataset,
// prediction on single images, and raw logits for a batch of inputs. It
// leaves out decoding many image files into one forward pass; predict
// handles the handful of files a person names.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/embedded"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/data/transform"
	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/quantize"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/task"
	"github.com/kiln-ml/kiln/tensor"
	"github.com/kiln-ml/kiln/train"
)

// Trained is a run's model loaded for inference.
type Trained struct {
	Dir        string
	Config     run.Config
	Info       run.RunInfo
	Checkpoint string // the file the weights came from

	model models.Model
	clf   *train.Classifier   // nil for runs of other tasks
	lml   *task.LanguageModel // language-model runs only
	enc   *text.Encoder       // text runs only
	tf    *transform.Compose
	x     []float32
	dev   *device.Predictor // with UseDevice: the forward pass on a device
}

// LoadTrained loads the run in dir with the weights of which: "best"
// (best.safetensors, or last.safetensors when the run has no best yet),
// "last", "int8" (the int8 model kiln quantize wrote, int8.safetensors),
// or the path of a safetensors file of the same model.
func LoadTrained(dir, which string) (*Trained, error) {
	cfg, err := run.ReadRunConfig(dir)
	if err != nil {
		return nil, err
	}
	info, err := run.ReadRunInfo(dir)
	if err != nil {
		return nil, err
	}
	s := info.InputShape
	var enc *text.Encoder
	if run.IsTextRun(info.Task, info.Model) {
		if enc, err = source.ReadEncoder(dir); err != nil {
			return nil, err
		}
	}
	model, err := task.NewModel(cfg, info.Task, info.Model, s, len(info.Classes), enc, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, fmt.Errorf("predict: %s: %w", filepath.Join(dir, run.InfoFile), err)
	}
	path, int8Path := CheckpointPath(dir, which), ""
	if which == "int8" { // kiln quantize's layers, on the architecture of the best weights
		path, int8Path = CheckpointPath(dir, "best"), filepath.Join(dir, quantize.File)
	}
	if _, err := checkpoint.LoadModel(path, model); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("predict: %s has no checkpoint %s yet (did its first epoch finish?)", dir, filepath.Base(path))
		}
		return nil, err
	}
	nn.SetTraining(model, false)
	if int8Path != "" {
		q, err := quantize.Load(int8Path, model, s)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("predict: %s has no int8 model %s (make one with kiln quantize)", dir, quantize.File)
		}
		if err != nil {
			return nil, err
		}
		model, path = q, int8Path
	}
	tf, err := transform.Parse(info.Transform)
	if err != nil {
		return nil, fmt.Errorf("predict: %s: transform: %w", filepath.Join(dir, run.InfoFile), err)
	}
	t := &Trained{Dir: dir, Config: cfg, Info: info, Checkpoint: path, tf: tf, model: model, enc: enc, x: make([]float32, shapeSize(s))}
	switch lm, ok := model.(*models.CharLM); {
	case ok:
		t.lml = task.NewLanguageModel(lm, nil)
	case info.Task != run.TaskAutoencode:
		t.clf = train.NewClassifier(model, model.ParamSet(), nil, nil)
	}
	return t, nil
}

// CheckpointPath returns the model file that which names in the run dir:
// "best" (best.safetensors, or last.safetensors when the run has no best
// yet), "last", or which itself, the path of a file.
func CheckpointPath(dir, which string) string {
	switch which {
	case "", "best":
		path := filepath.Join(dir, run.BestFile)
		if !run.Exists(path) {
			path = filepath.Join(dir, run.LastFile)
		}
		return path
	case "last":
		return filepath.Join(dir, run.LastFile)
	}
	return which
}

// Model returns the loaded model, in evaluation mode.
func (t *Trained) Model() models.Model { return t.model }

// classifier returns the classification step, or an error for runs of
// another task.
func (t *Trained) classifier() (*train.Classifier, error) {
	if t.clf == nil {
		return nil, fmt.Errorf("predict: %s is a %s run of %s; this needs a classifier", t.Dir, t.Info.Task, t.Info.Model)
	}
	return t.clf, nil
}

// Logits runs the model on a batch of inputs, already transformed, of
// len(x)/(C*H*W) examples of the run's input shape, and returns the
// outputs (for a classifier, [N, classes] logits) in row-major order.
func (t *Trained) Logits(x []float32) ([]float32, error) {
	s := t.Info.InputShape
	size := shapeSize(s)
	if len(x) == 0 || len(x)%size != 0 {
		return nil, fmt.Errorf("predict: %d input values are not a whole number of %v examples", len(x), s)
	}
	if t.dev != nil {
		y, err := t.dev.Logits(x)
		if err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		return append([]float32(nil), y...), nil
	}
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	y := t.model.Forward(g, g.Const(tensor.FromSlice(append([]float32(nil), x...), append([]int{len(x) / size}, s...)...)))
	return y.Value().Values(), nil
}

// Predict returns the probability of each class (softmax of the logits)
// for one decoded image with the run's channel count.
func (t *Trained) Predict(img *transform.Image) ([]float64, error) {
	s := t.Info.InputShape
	if img.C != s[0] {
		return nil, fmt.Errorf("predict: image has %d channels, the model takes %d", img.C, s[0])
	}
	if err := t.tf.Tensor(img, t.x, nil); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	c, err := t.classifier()
	if err != nil {
		return nil, err
	}
	if t.dev != nil {
		logits, err := t.dev.Logits(t.x)
		if err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		return softmax64(logits), nil
	}
	logits := c.Logits(&data.Batch{X: t.x, Shape: []int{1, s[0], s[1], s[2]}})
	return softmax64(logits), nil
}

// decodeMode is how the run's images were decoded (--decode): predictions
// and evaluations decode the same way. config.json was validated when the
// run trained; an unknown value there means the default.
func (t *Trained) decodeMode() imagefolder.Mode {
	m, _ := imagefolder.ParseMode(t.Config.Decode)
	return m
}

// PredictFile reads, decodes and predicts one image file; its errors name
// the file.
func (t *Trained) PredictFile(path string) ([]float64, error) {
	if t.enc != nil {
		return t.predictTextFile(path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	img, err := imagefolder.DecodeMode(b, t.Info.InputShape[0], 0, t.decodeMode())
	if err != nil {
		return nil, fmt.Errorf("predict: %s: not an image kiln can read: %w", path, err)
	}
	p, err := t.Predict(img)
	if err != nil {
		return nil, fmt.Errorf("predict: %s: %w", path, err)
	}
	return p, nil
}

// Prediction is one class and its probability.
type Prediction struct {
	Class       string  `json:"class"`
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

// TopK returns the k most probable classes of probs, most probable first
// (ties in class order).
func (t *Trained) TopK(probs []float64, k int) []Prediction {
	out := make([]Prediction, len(probs))
	for i, p := range probs {
		out[i] = Prediction{Class: t.Info.Classes[i], Index: i, Probability: p}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Probability > out[j].Probability })
	return out[:min(max(k, 0), len(out))]
}

// Evaluate evaluates the model on dataDir: the test split of an image
// folder (its test/ folder, else the folder itself), of IDX files (t10k-*)
// or of CIFAR batches. With dataDir "" it uses the run's own test set.
// Image files are decoded as in training; IDX and CIFAR images are
// converted to the run's channels and size. Classes are matched to the
// run's by name, so the data may hold some of them. It returns the result
// and what it evaluated on; skipped files are reported to log.
func (t *Trained) Evaluate(ctx context.Context, dataDir string, workers int, log io.Writer) (train.Result, string, error) {
	if t.lml != nil {
		return t.evaluateLM(ctx, dataDir, workers)
	}
	clf, err := t.classifier()
	if err != nil {
		return train.Result{}, "", err
	}
	ds, what, err := t.evalSet(dataDir, workers, log)
	if err != nil {
		return train.Result{}, "", err
	}
	if got, want := fmt.Sprint(ds.Shape()), fmt.Sprint(t.Info.InputShape); got != want {
		return train.Result{}, "", fmt.Errorf("predict: %s gives images of %s, the model takes %s", what, got, want)
	}
	ds, err = source.MatchClasses(ds, t.Info.Classes, what)
	if err != nil {
		return train.Result{}, "", fmt.Errorf("--data: %w", err)
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 256, Workers: workers})
	if err != nil {
		return train.Result{}, "", err
	}
	var ev train.Evaluator = clf
	if t.dev != nil {
		ev = t.dev
	}
	r, err := train.Evaluate(ctx, ev, l, t.Info.Classes)
	return r, what, err
}

// evalSet opens the data Evaluate evaluates on.
func (t *Trained) evalSet(dataDir string, workers int, log io.Writer) (data.Dataset, string, error) {
	if t.enc != nil {
		return t.textEvalSet(dataDir, log)
	}
	dir := dataDir
	if dir == "" {
		dir = t.Config.Data
	}
	if dir == "" {
		if t.Info.Imported != "" {
			return nil, "", fmt.Errorf("predict: %s was imported without data; name a test set with --data", t.Dir)
		}
		_, test, err := embedded.FashionMNIST()
		if err != nil {
			return nil, "", err
		}
		if names, _ := run.ParseClassNames(t.Config.ClassNames); names != nil {
			if test, err = source.RenameClasses(test, names); err != nil {
				return nil, "", err
			}
		}
		return test, "the embedded Fashion-MNIST test set", nil
	}
	src, err := source.DetectSource(dir)
	if err != nil {
		return nil, "", err
	}
	if src.Format == source.FormatImages {
		return nil, "", fmt.Errorf("--data %s: image files without class folders have no labels to evaluate against", dir)
	}
	opt := source.OpenOptions{Channels: t.Info.InputShape[0], Transform: t.tf, Workers: workers, AllowEmpty: true, Log: log,
		Decode: t.decodeMode()}
	if src.Tensors() {
		// IDX files name no classes: the run's names (--classes) apply.
		// The images are converted only if they differ from the run's.
		opt.ClassNames, _ = run.ParseClassNames(t.Config.ClassNames)
		d, _, err := src.Open(false, source.OpenOptions{ClassNames: opt.ClassNames})
		if err != nil || d == nil {
			return nil, "", noTest(dir, src, err)
		}
		if fmt.Sprint(d.Shape()) != fmt.Sprint(t.Info.InputShape) {
			if d, err = source.NewImageView(d, opt.Channels, t.tf); err != nil {
				return nil, "", err
			}
		}
		return d, src.String(), nil
	}
	if src.Format == source.FormatImageFolder && !src.Split {
		if dataDir == "" {
			return nil, "", fmt.Errorf("predict: the run's data %s has no test/ folder; name one with --data", dir)
		}
		d, _, err := src.Open(true, opt) // the class folders themselves
		return d, dir, err
	}
	d, _, err := src.Open(false, opt)
	if err != nil || d == nil {
		return nil, "", noTest(dir, src, err)
	}
	return d, filepath.Join(src.Root, "test"), nil
}

func noTest(dir string, src *source.Source, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("--data %s: %s has no test split", dir, src)
}
