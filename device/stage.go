package device

// This file holds the classifier's two staging slots: a batch is checked,
// put in a slot's host memory and sent to its device buffers, and the step
// after takes it, so that the loop can stage the next batch while the
// device runs a step (train.Stager). It leaves out the step itself
// (classifier.go) and the copies, which are the backend's (backend.Stage).

import (
	"fmt"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/internal/backend"
)

// slot is one staging slot: its stage, the device buffers its batches are
// copied into, and the staged batch's size or what is wrong with it.
type slot struct {
	st     backend.Stage
	x      backend.Buffer
	labels backend.IntBuffer
	cap    int   // examples x and labels hold
	n      int   // examples staged
	global int   // the global batch the staged batch is a shard of (data.Batch.Global)
	err    error // why the staged batch cannot be trained on
}

// Stage checks b and starts copying it to the device for the next
// TrainStaged, in the slot the last step did not read; b may be reused
// once Stage returns. A batch staged and not trained on is replaced. What
// is wrong with b (its shape, a label out of range, a device error) is
// reported by the TrainStaged that takes it.
func (c *Classifier) Stage(b *data.Batch) {
	i := c.staged
	if i < 0 {
		i = c.spare()
	}
	c.staged = i
	c.load(i, b)
}

// spare returns the slot a batch goes into that must not disturb the
// staged one: the other slot, or with none staged the one the last step
// did not read.
func (c *Classifier) spare() int {
	if c.staged >= 0 {
		return 1 - c.staged
	}
	if c.launched == 0 {
		return 1
	}
	return 0
}

// load fills slot i with b and sends it.
func (c *Classifier) load(i int, b *data.Batch) {
	s := &c.slots[i]
	err := c.err
	if err == nil {
		err = c.fill(s, b) // may replace *s
	}
	s.n, s.global, s.err = len(b.Y), b.Global, err
}

// take hands the staged batch's slot to a step.
func (c *Classifier) take() (*slot, int, error) {
	i := c.staged
	if i < 0 {
		panic("device: a staged step without a staged batch")
	}
	c.staged = -1
	return c.use(i)
}

// use marks slot i as the one the step being queued reads.
func (c *Classifier) use(i int) (*slot, int, error) {
	c.launched = i
	s := &c.slots[i]
	return s, s.n, s.err
}

// fill checks b, copies it into s's host memory and sends it.
func (c *Classifier) fill(s *slot, b *data.Batch) error {
	n := len(b.Y)
	if n == 0 {
		return fmt.Errorf("device: empty batch")
	}
	in := c.prog.layers[0].in
	if want := n * in; len(b.X) != want {
		return fmt.Errorf("device: batch of %d examples has %d inputs, want %d", n, len(b.X), want)
	}
	for _, y := range b.Y {
		if y < 0 || y >= c.classes {
			return fmt.Errorf("device: label %d out of range [0, %d)", y, c.classes)
		}
	}
	if err := c.reserve(n); err != nil {
		return err
	}
	if n > s.cap {
		if err := c.grow(s, n); err != nil {
			return err
		}
	}
	hx, hl, err := s.st.Host()
	if err != nil {
		return err
	}
	copy(hx, b.X)
	for i, y := range b.Y {
		hl[i] = int32(y)
	}
	return c.onThread(c.sendCall, call{s: s, n: n})
}

// grow makes slot s hold n examples. It waits for the queued ops, which
// may read the buffers it frees, and for its new buffers' zeroing, which
// the copy must not overtake.
func (c *Classifier) grow(s *slot, n int) error {
	if err := c.b.Sync(); err != nil {
		return err
	}
	if s.st != nil {
		err := s.st.Free()
		c.b.Free(s.x)
		c.b.FreeInts(s.labels)
		*s = slot{}
		if err != nil {
			return err
		}
	}
	in := c.prog.layers[0].in
	x, err := c.b.Alloc(n * in)
	if err != nil {
		return err
	}
	labels, err := c.b.AllocInts(n)
	if err != nil {
		c.b.Free(x)
		return err
	}
	st, err := backend.NewStage(c.b, n*in, n)
	if err != nil {
		c.b.Free(x)
		c.b.FreeInts(labels)
		return err
	}
	*s = slot{st: st, x: x, labels: labels, cap: n}
	return c.b.Sync()
}
