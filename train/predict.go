package train

// This file loads a finished run for inference: eval on a dataset and
// prediction on single images. It leaves out batching many images into one
// forward pass; predict handles the handful of files a person names.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/embedded"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
)

// Trained is a run's model loaded for inference.
type Trained struct {
	Dir        string
	Config     Config
	Info       RunInfo
	Checkpoint string // the file the weights came from

	clf *Classifier
	tf  *transform.Compose
	x   []float32
}

// LoadTrained loads the run in dir with the weights of which: "best"
// (best.safetensors, or last.safetensors when the run has no best yet),
// "last", or the path of a safetensors file of the same model.
func LoadTrained(dir, which string) (*Trained, error) {
	cfg, err := ReadRunConfig(dir)
	if err != nil {
		return nil, err
	}
	info, err := ReadRunInfo(dir)
	if err != nil {
		return nil, err
	}
	s := info.InputShape
	model, err := models.New(info.Model, models.Shape{Channels: s[0], Height: s[1], Width: s[2], Classes: len(info.Classes)}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", filepath.Join(dir, InfoFile), err)
	}
	path := which
	switch which {
	case "", "best":
		path = filepath.Join(dir, BestFile)
		if !fileExists(path) {
			path = filepath.Join(dir, LastFile)
		}
	case "last":
		path = filepath.Join(dir, LastFile)
	}
	if _, err := checkpoint.LoadModel(path, model); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("train: %s has no checkpoint %s yet (did its first epoch finish?)", dir, filepath.Base(path))
		}
		return nil, err
	}
	nn.SetTraining(model, false)
	tf, err := transform.Parse(info.Transform)
	if err != nil {
		return nil, fmt.Errorf("train: %s: transform: %w", filepath.Join(dir, InfoFile), err)
	}
	t := &Trained{Dir: dir, Config: cfg, Info: info, Checkpoint: path, tf: tf,
		clf: NewClassifier(model, model.ParamSet(), nil, nil), x: make([]float32, s[0]*s[1]*s[2])}
	return t, nil
}

// Predict returns the probability of each class (softmax of the logits)
// for one decoded image with the run's channel count.
func (t *Trained) Predict(img *transform.Image) ([]float64, error) {
	s := t.Info.InputShape
	if img.C != s[0] {
		return nil, fmt.Errorf("train: image has %d channels, the model takes %d", img.C, s[0])
	}
	if err := t.tf.Tensor(img, t.x, nil); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	c := t.clf
	prev := c.tape.SetGradEnabled(false)
	defer c.tape.SetGradEnabled(prev)
	logits := c.forward(&data.Batch{X: t.x, Shape: []int{1, s[0], s[1], s[2]}}).Value().Values()
	hi := math.Inf(-1)
	for _, v := range logits {
		hi = math.Max(hi, float64(v))
	}
	probs := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp(float64(v) - hi)
		sum += probs[i]
	}
	for i := range probs {
		probs[i] /= sum
	}
	return probs, nil
}

// PredictFile reads, decodes and predicts one image file; its errors name
// the file.
func (t *Trained) PredictFile(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	img, err := imagefolder.Decode(b, t.Info.InputShape[0], 0)
	if err != nil {
		return nil, fmt.Errorf("train: %s: not an image kiln can read: %w", path, err)
	}
	p, err := t.Predict(img)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", path, err)
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

// Evaluate evaluates the model on dataDir: its test/ folder when it has
// one, else the folder itself (class folders). With dataDir "" it uses the
// run's own test set. Folder classes are matched to the run's by name, so a
// folder may hold some of them. It returns the result and what it
// evaluated on; skipped files are reported to log.
func (t *Trained) Evaluate(ctx context.Context, dataDir string, workers int, log io.Writer) (Result, string, error) {
	var ds data.Dataset
	var what string
	switch {
	case dataDir == "" && t.Config.Data == "":
		_, test, err := embedded.FashionMNIST()
		if err != nil {
			return Result{}, "", err
		}
		ds, what = test, "the embedded Fashion-MNIST test set"
	default:
		dir := dataDir
		if dir == "" {
			dir = t.Config.Data
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return Result{}, "", fmt.Errorf("--data %s: not a folder (want one with test/ class folders, or class folders itself)", dir)
		}
		if sub := filepath.Join(dir, "test"); fileExists(sub) {
			dir = sub
		} else if dataDir == "" {
			return Result{}, "", fmt.Errorf("train: the run's data %s has no test/ folder; name one with --data", dir)
		}
		f, rep, err := imagefolder.Open(dir, imagefolder.Options{Channels: t.Info.InputShape[0], Transform: t.tf, Workers: workers, AllowEmpty: true})
		if err != nil {
			return Result{}, "", err
		}
		if log != nil {
			fmt.Fprintln(log, rep)
		}
		ds, what = f, dir
	}
	if got, want := fmt.Sprint(ds.Shape()), fmt.Sprint(t.Info.InputShape); got != want {
		return Result{}, "", fmt.Errorf("train: %s gives images of %s, the model takes %s", what, got, want)
	}
	ds, err := matchClasses(ds, t.Info.Classes, what)
	if err != nil {
		return Result{}, "", fmt.Errorf("--data: %w", err)
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 256, Workers: workers})
	if err != nil {
		return Result{}, "", err
	}
	r, err := Evaluate(ctx, t.clf, l, t.Info.Classes)
	return r, what, err
}
