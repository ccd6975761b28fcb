package device

// This file holds Predictor, the forward-only use of a compiled model:
// logits for a batch of any size, and evaluation (loss, correct count,
// predictions) for train.Evaluate. It leaves out training (classifier.go).

import (
	"fmt"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/train"
)

// Predictor runs a trained model's forward pass on a backend: the weights
// are uploaded once, each call uploads a batch and downloads its logits
// (or, for evaluation, its summed loss, correct count and predictions).
// It keeps no gradients and no optimizer state. The model should be in
// evaluation mode (nn.SetTraining(model, false)), as for
// train.Classifier.Logits; a Predictor is used by one goroutine.
type Predictor struct {
	c      *Classifier
	logits []float32
}

var _ train.Evaluator = (*Predictor)(nil)

// NewPredictor compiles model as NewClassifier does and uploads params
// (its ParamSet) and the running statistics of its batch normalisation
// layers. A model with a layer the device path lacks gives an
// *UnsupportedError naming it.
func NewPredictor(model models.Model, params *nn.ParamSet, b backend.Backend) (*Predictor, error) {
	c, err := newClassifier(model, params, nil, b)
	if err != nil {
		return nil, err
	}
	return &Predictor{c: c}, nil
}

// Module returns the model.
func (p *Predictor) Module() nn.Module { return p.c.Model }

// Backend returns the backend the predictor runs on.
func (p *Predictor) Backend() backend.Backend { return p.c.b }

// Classes returns the number of logits per example.
func (p *Predictor) Classes() int { return p.c.classes }

// InputSize returns the number of input values per example.
func (p *Predictor) InputSize() int { return p.c.prog.layers[0].in }

// Logits runs the model on len(x)/InputSize() examples and returns their
// logits, [N, classes] row-major. The slice is the predictor's: it stays
// valid until the next call.
func (p *Predictor) Logits(x []float32) ([]float32, error) {
	if err := p.c.err; err != nil {
		return nil, err
	}
	in := p.InputSize()
	if len(x) == 0 || len(x)%in != 0 {
		return nil, fmt.Errorf("device: %d input values are not a whole number of examples of %d", len(x), in)
	}
	n := len(x) / in
	y, err := p.c.forward(x, n)
	if err != nil {
		return nil, err
	}
	k := n * p.c.classes
	if cap(p.logits) < k {
		p.logits = make([]float32, k)
	}
	p.logits = p.logits[:k]
	if err := p.c.b.Download(p.logits, y); err != nil {
		return nil, err
	}
	return p.logits, nil
}

// EvalBatch returns a batch's summed cross-entropy loss and correct count,
// and each example's predicted class in preds (len(b.Y) entries, or nil),
// as train.Classifier.EvalBatch does. A device error is kept for Err and
// the batch reports zeros.
func (p *Predictor) EvalBatch(b *data.Batch, preds []int) (lossSum float64, correct int) {
	return p.c.EvalBatch(b, preds)
}

// Err returns the first device error of EvalBatch, if any.
func (p *Predictor) Err() error { return p.c.err }

// SyncFromHost uploads the model's weights again after the host changed
// them.
func (p *Predictor) SyncFromHost() error { return p.c.SyncFromHost() }
