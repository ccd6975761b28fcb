package device

// This file gives a classifier's device memory back: a process that trains
// several models on one GPU (kiln tune's trials, kiln cv's folds) must not
// keep each one's weights, activations and pinned staging memory until it
// exits. It leaves out the backend itself, which its opener closes.

import (
	"errors"

	"github.com/kiln-ml/kiln/internal/backend"
)

// Close waits for the classifier's queued work and frees everything it
// allocated on its backend: the parameters, gradients and optimizer state,
// the activations, the staging slots and their pinned memory. The model's
// host copies are left as they are (call SyncToHost first to keep the
// device's last steps). The classifier is unusable afterwards; closing it
// twice does nothing.
func (c *Classifier) Close() error {
	if c.prog == nil {
		return nil
	}
	err := c.b.Sync()
	for i := range c.slots {
		s := &c.slots[i]
		if s.st != nil {
			if ferr := s.st.Free(); err == nil {
				err = ferr
			}
			c.b.Free(s.x)
			c.b.FreeInts(s.labels)
		}
		*s = slot{}
	}
	c.prog.free()
	for i := range c.prog.stats {
		st := &c.prog.stats[i]
		freeAll(c.b, st.saved, st.mean, st.vr)
		*st = bnState{}
	}
	freeAll(c.b, c.p, c.g, c.out, c.x, c.logp)
	if c.preds.Mem() != nil {
		c.b.FreeInts(c.preds)
	}
	if c.opt != nil {
		for _, s := range c.opt.state {
			freeAll(c.b, s.dev)
		}
		c.opt.state = nil
	}
	c.prog, c.staged, c.launched = nil, -1, -1
	if c.err == nil {
		c.err = errClosed
	}
	return err
}

// Close frees the predictor's device memory (Classifier.Close).
func (p *Predictor) Close() error { return p.c.Close() }

// errClosed is what a closed classifier's steps report.
var errClosed = errors.New("device: the classifier is closed")

// freeAll frees the buffers that are not none.
func freeAll(b backend.Backend, bufs ...backend.Buffer) {
	for _, x := range bufs {
		if !x.IsNil() {
			b.Free(x)
		}
	}
}
