package device

// This file holds Classifier, the train.Learner that runs a classifier's
// whole step on a backend, and its host side: the batch going in, the loss
// and counts coming out, and the weights synced for checkpoints. It leaves
// out the layers (compile.go, program.go) and the update (optimizer.go).

import (
	"fmt"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train"
)

// Classifier trains a model with cross-entropy on a backend. Its
// parameters, gradients and optimizer state live on the device: call
// SyncToHost before reading the model's ParamSet or the optimizer's State,
// and SyncFromHost after writing them. A Classifier is used by one
// goroutine.
type Classifier struct {
	Model  models.Model
	Params *nn.ParamSet

	b       backend.Backend
	prog    *program
	classes int
	p, g    backend.Buffer // the flat parameters and gradients
	opt     *Optimizer

	x       backend.Buffer // Predictor's inputs
	preds   backend.IntBuffer
	logp    backend.Buffer
	out     backend.Buffer
	hostPrd []int32
	hostOut [2]float32
	dirty   bool // the device has steps the host copies lack
	err     error

	// gradSync combines the gradients of data-parallel ranks in the
	// model's host gradient buffer (SetGradSync).
	gradSync func(local, global int) error

	// cur and the four functions are the calls backend.Run makes on the
	// backend's thread (oncall.go).
	cur                                    call
	trainCall, evalCall, fwdCall, sendCall func()

	// Batches reach the device through two staging slots (stage.go): one
	// being copied while the step that reads the other runs.
	slots    [2]slot
	staged   int // the slot holding a batch not yet trained on, or -1
	launched int // the slot the last step read, or -1
}

var (
	_ train.Learner    = (*Classifier)(nil)
	_ train.HostSyncer = (*Classifier)(nil)
	_ train.Stager     = (*Classifier)(nil)
)

// NewClassifier compiles model for the data shape it was built for,
// allocates its parameters, gradients and
// optimizer state on b and uploads params (the model's ParamSet). A model
// with a layer the device path lacks gives an *UnsupportedError naming it.
func NewClassifier(model models.Model, params *nn.ParamSet, opt OptimizerSettings, b backend.Backend) (*Classifier, error) {
	return newClassifier(model, params, &opt, b)
}

// newClassifier is NewClassifier; with opt nil it makes an inference
// program (no gradients, no optimizer) for Predictor.
func newClassifier(model models.Model, params *nn.ParamSet, opt *OptimizerSettings, b backend.Backend) (*Classifier, error) {
	layers, shape, err := compile(model)
	if err != nil {
		return nil, err
	}
	if last := layers[len(layers)-1]; last.out != shape.Classes {
		return nil, fmt.Errorf("device: %T gives %d outputs per example for %d classes", model, last.out, shape.Classes)
	}
	c := &Classifier{Model: model, Params: params, b: b, classes: shape.Classes, staged: -1, launched: -1}
	c.bindCalls()
	if c.prog, err = newProgram(b, layers, opt == nil); err != nil {
		return nil, err
	}
	if c.p, err = b.Alloc(params.Len()); err != nil {
		return nil, err
	}
	if c.out, err = b.Alloc(2); err != nil {
		return nil, err
	}
	if opt != nil {
		if c.g, err = b.Alloc(params.Len()); err != nil {
			return nil, err
		}
		if c.opt, err = newOptimizer(*opt, b, c.p, c.g); err != nil {
			return nil, err
		}
	}
	if err := c.SyncFromHost(); err != nil {
		return nil, err
	}
	return c, nil
}

// Module returns the model, whose training mode the loop switches.
func (c *Classifier) Module() nn.Module { return c.Model }

// Optimizer returns the device optimizer.
func (c *Classifier) Optimizer() optim.Optimizer {
	if c.opt != nil && c.opt.kind == "rmsprop" {
		// optim's RMSprop is no optim.Momentum: no schedule cycles its
		// momentum and training states record none, on either path.
		return struct{ optim.Optimizer }{c.opt}
	}
	return c.opt
}

// Backend returns the backend the classifier runs on.
func (c *Classifier) Backend() backend.Backend { return c.b }

// reserve sizes the activation, loss and prediction buffers for n
// examples. It waits for the queued ops first: the buffers they use may be
// freed.
func (c *Classifier) reserve(n int) error {
	if n <= c.prog.cap {
		return nil
	}
	if err := c.b.Sync(); err != nil {
		return err
	}
	if err := c.prog.reserve(n); err != nil {
		return err
	}
	if !c.logp.IsNil() {
		c.b.Free(c.logp)
		c.b.FreeInts(c.preds)
	}
	var err error
	if c.logp, err = c.b.Alloc(n * c.classes); err != nil {
		return err
	}
	if c.preds, err = c.b.AllocInts(n); err != nil {
		return err
	}
	c.hostPrd = make([]int32, n)
	return nil
}

// forward uploads n examples x (Predictor's inputs) and queues the forward
// pass; it returns the logits' buffer.
func (c *Classifier) forward(x []float32, n int) (backend.Buffer, error) {
	if err := c.reserve(n); err != nil {
		return backend.Buffer{}, err
	}
	if c.x.Len() < len(x) {
		if !c.x.IsNil() {
			c.b.Free(c.x)
		}
		var err error
		if c.x, err = c.b.Alloc(len(x)); err != nil {
			c.x = backend.Buffer{}
			return backend.Buffer{}, err
		}
	}
	if err := c.b.Upload(c.x.Slice(0, len(x)), x); err != nil {
		return backend.Buffer{}, err
	}
	err := c.onThread(c.fwdCall, call{x: c.x.Slice(0, len(x)), n: n})
	return c.cur.y, err
}

// run queues the forward pass of n examples in x.
func (c *Classifier) run(x backend.Buffer, n int) (backend.Buffer, error) {
	y, err := c.prog.forward(n, x, c.p)
	c.dirty = c.dirty || c.prog.moved
	return y, err
}

// TrainStep runs one step on the device: forward, cross-entropy, backward
// and the update. It returns the batch's mean loss and how many examples
// the model got right before the update. A device error is kept for Err
// (the loop checks it) and the step reports zeros.
func (c *Classifier) TrainStep(b *data.Batch) (loss float32, correct int) {
	c.Stage(b)
	return c.TrainStaged(nil)
}

// TrainStaged is TrainStep on the batch Stage copied to the device. It
// calls during (when not nil) once the step is queued and before waiting
// for its loss, so that the host can stage the next batch while the device
// computes; it calls it even when the step fails.
func (c *Classifier) TrainStaged(during func()) (loss float32, correct int) {
	s, n, err := c.take()
	if err == nil && c.err == nil {
		c.dirty = true
		err = c.onThread(c.trainCall, call{s: s, n: n})
	}
	if during != nil {
		during()
	}
	if c.err == nil {
		c.err = err
	}
	if c.err != nil {
		return 0, 0
	}
	if err := c.b.Download(c.hostOut[:], c.out); err != nil {
		c.err = err
		return 0, 0
	}
	return c.hostOut[0], int(c.hostOut[1])
}

// trainOn queues the step on the n examples in slot s.
func (c *Classifier) trainOn(s *slot, n int) error {
	s.st.Acquire()
	defer s.st.Release()
	if err := c.lossOn(s, n); err != nil {
		return err
	}
	dlogits := c.prog.gradients(n)
	c.b.Fill(c.g, 0)
	c.b.CrossEntropyGrad(c.logp.Slice(0, n*c.classes), s.labels.Slice(0, n), n, c.classes, float32(1/float64(n)), dlogits)
	c.prog.backward(n, c.p, c.g)
	if c.gradSync != nil && !c.combine(n, s.global) {
		return nil // the ranks failed to combine: no update; the loop's Replicas.Sum reports it
	}
	c.opt.Step()
	return nil
}

// SyncBuffers copies the batch normalisations' running statistics to the
// model's host buffers, lets f change them there (a data-parallel job
// gives every rank rank 0's after each step, as DDP does), and copies them
// back to the device.
func (c *Classifier) SyncBuffers(f func() error) error {
	if c.err != nil {
		return c.err
	}
	if err := c.prog.downloadStats(); err != nil {
		return fmt.Errorf("device: copying the running statistics to the host: %w", err)
	}
	if err := f(); err != nil {
		return err
	}
	if err := c.prog.uploadStats(); err != nil {
		return fmt.Errorf("device: copying the running statistics to the device: %w", err)
	}
	return nil
}

// SetGradSync makes every training step combine its gradients with the
// other data-parallel ranks' before the update: the device's gradients
// are copied into the model's host gradient buffer (Params.Grad), sync
// combines them there (dist.GradReducer.ReduceAll: each rank's weighted
// by its share local of the global batch), and they are copied back.
// When sync fails the step does not update the model; sync's owner
// reports the error. nil turns it off.
func (c *Classifier) SetGradSync(sync func(local, global int) error) { c.gradSync = sync }

// combine runs the gradient sync of a step on n of global examples.
func (c *Classifier) combine(n, global int) bool {
	if err := c.b.Download(c.Params.Grad, c.g); err != nil {
		c.err = err
		return false
	}
	if c.gradSync(n, max(global, n)) != nil {
		return false
	}
	if err := c.b.Upload(c.g, c.Params.Grad); err != nil {
		c.err = err
		return false
	}
	return true
}

// lossOn queues the forward pass and the loss of the n examples in slot s.
func (c *Classifier) lossOn(s *slot, n int) error {
	logits, err := c.run(s.x.Slice(0, n*c.prog.layers[0].in), n)
	if err != nil {
		return err
	}
	c.b.CrossEntropy(logits, s.labels.Slice(0, n), n, c.classes, c.logp.Slice(0, n*c.classes), c.preds.Slice(0, n), c.out)
	return nil
}

// EvalBatch returns a batch's summed loss and correct count, and each
// example's predicted class in preds (len(b.Y) entries, or nil).
func (c *Classifier) EvalBatch(b *data.Batch, preds []int) (lossSum float64, correct int) {
	// The spare slot: a training batch staged meanwhile stays staged.
	i := c.spare()
	c.load(i, b)
	s, n, err := c.use(i)
	if err == nil && c.err == nil {
		err = c.onThread(c.evalCall, call{s: s, n: n})
	}
	if err == nil && c.err == nil && preds != nil {
		if len(preds) != n {
			panic(fmt.Sprintf("device: %d predictions for a batch of %d", len(preds), n))
		}
		err = c.b.DownloadInts(c.hostPrd[:n], c.preds.Slice(0, n))
		for i, p := range c.hostPrd[:n] {
			preds[i] = int(p)
		}
	}
	if err == nil && c.err == nil {
		err = c.b.Download(c.hostOut[:], c.out)
	}
	if c.err == nil {
		c.err = err
	}
	if c.err != nil {
		return 0, 0
	}
	return float64(c.hostOut[0]) * float64(n), int(c.hostOut[1])
}

// Err returns the first error of a step, if any; every later step does
// nothing.
func (c *Classifier) Err() error { return c.err }

// SyncToHost copies the device's parameters into the model's ParamSet and
// the optimizer's state into its State slices, when a step has changed
// them since the last sync.
func (c *Classifier) SyncToHost() error {
	if c.err != nil {
		return c.err
	}
	if !c.dirty {
		return nil
	}
	if err := c.b.Download(c.Params.Data, c.p); err != nil {
		c.err = fmt.Errorf("device: copying the parameters to the host: %w", err)
		return c.err
	}
	if err := c.prog.downloadStats(); err != nil {
		c.err = fmt.Errorf("device: copying the running statistics to the host: %w", err)
		return c.err
	}
	if c.opt != nil {
		if err := c.opt.download(); err != nil {
			c.err = fmt.Errorf("device: copying the optimizer state to the host: %w", err)
			return c.err
		}
	}
	c.dirty = false
	return nil
}

// SyncFromHost copies the model's ParamSet and the optimizer's State
// slices to the device, after the host changed them (a resumed training
// state, the best model loaded for testing).
func (c *Classifier) SyncFromHost() error {
	if err := c.b.Upload(c.p, c.Params.Data); err != nil {
		return fmt.Errorf("device: copying the parameters to the device: %w", err)
	}
	if err := c.prog.uploadStats(); err != nil {
		return fmt.Errorf("device: copying the running statistics to the device: %w", err)
	}
	if c.opt == nil {
		return nil
	}
	if err := c.opt.upload(); err != nil {
		return fmt.Errorf("device: copying the optimizer state to the device: %w", err)
	}
	c.dirty = false
	return nil
}
