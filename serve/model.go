package serve

// This file holds what the server needs of a model: its input shape,
// class names, a batched forward pass and the decoding of one request's
// image or text into one example. It leaves out the batching itself
// (batcher.go).

import (
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/tensor"
)

// MaxPixels bounds the pixels of an image a request may send, so that a
// small compressed file cannot ask for gigabytes once decoded.
const MaxPixels = 4096 * 4096

// Model is one served classifier.
type Model struct {
	Name    string   // the name in URLs: /v2/models/{Name}
	Shape   []int    // one example's input: [C, H, W] for images, [L] token ids for texts
	Classes []string // class names, in the order of the outputs

	// Logits runs the model on n examples of Shape, packed in x, and
	// returns n*len(Classes) logits. The batcher calls it from one
	// goroutine at a time.
	Logits func(x []float32) ([]float32, error)
	// Image decodes one image file's bytes into one example; nil for text
	// models.
	Image func(b []byte, x []float32) error
	// Text encodes one text into one example; nil for image models.
	Text func(s string, x []float32) error
	// FeedbackDir is where corrected labels are stored
	// (FeedbackDir/<class>/<sha256>.<ext>); "" refuses feedback.
	FeedbackDir string
}

// FeedbackFolder is the folder of a run directory that feedback goes to.
const FeedbackFolder = "feedback"

// validName is what a model may be called in a URL.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// FromTrained wraps a loaded classifier run as a Model called name:
// images are decoded and transformed as the run's evaluation transform
// does, texts encoded with its encoder, and feedback is stored in the
// run's feedback/ folder.
func FromTrained(name string, t *predict.Trained) (*Model, error) {
	if t.Info.Task == run.TaskAutoencode || t.Info.Task == run.TaskLM {
		return nil, fmt.Errorf("serve: %s is a %s run; kiln serves classifiers", t.Dir, t.Info.Task)
	}
	m := &Model{Name: name, Shape: append([]int(nil), t.Info.InputShape...), Classes: t.Info.Classes,
		FeedbackDir: filepath.Join(t.Dir, FeedbackFolder)}
	m.Logits = reusedTape(t.Model(), m.Shape)
	if t.Device() != nil { // kiln serve --device: the run's device program
		m.Logits = t.Logits
	}
	if enc := t.Encoder(); enc != nil {
		m.Text = func(s string, x []float32) error {
			enc.Encode(s, x)
			return nil
		}
	} else {
		tf, err := transform.Parse(t.Info.Transform)
		if err != nil {
			return nil, fmt.Errorf("serve: %s: transform: %w", t.Dir, err)
		}
		c := m.Shape[0]
		m.Image = func(b []byte, x []float32) error {
			img, err := imagefolder.Decode(b, c, MaxPixels)
			if err != nil {
				return err
			}
			return tf.Tensor(img, x, nil)
		}
	}
	return m, m.check()
}

// check reports a model the server cannot serve.
func (m *Model) check() error {
	switch {
	case !validName.MatchString(m.Name):
		return fmt.Errorf("serve: model name %q: want letters, digits, '_', '.' or '-' (at most 128)", m.Name)
	case len(m.Shape) == 0 || m.size() <= 0:
		return fmt.Errorf("serve: model %s: input shape %v", m.Name, m.Shape)
	case len(m.Classes) < 1:
		return fmt.Errorf("serve: model %s has no classes", m.Name)
	case m.Logits == nil || (m.Image == nil) == (m.Text == nil):
		return fmt.Errorf("serve: model %s needs Logits and exactly one of Image and Text", m.Name)
	}
	return nil
}

// size returns the number of values of one example.
func (m *Model) size() int {
	n := 1
	for _, d := range m.Shape {
		n *= d
	}
	return n
}

// reusedTape returns a model's forward pass on one tape that every call
// resets, so that its buffers are allocated once, not per batch (what
// predict's Logits, made for a few calls, does). Calls must not overlap:
// the batcher makes one at a time.
func reusedTape(model nn.Module, shape []int) func(x []float32) ([]float32, error) {
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	var in tensor.Tensor
	size := 1
	for _, d := range shape {
		size *= d
	}
	return func(x []float32) ([]float32, error) {
		if len(x) == 0 || len(x)%size != 0 {
			return nil, fmt.Errorf("serve: %d input values are not a whole number of %v examples", len(x), shape)
		}
		g.Reset()
		in.Init(x, append([]int{len(x) / size}, shape...)...)
		return model.Forward(g, g.Const(&in)).Value().Values(), nil
	}
}
