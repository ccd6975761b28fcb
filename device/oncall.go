package device

// This file holds the calls a classifier makes through backend.Run (on
// CUDA, on the thread that owns the context): their arguments and results
// live in the classifier, and the functions are bound once, so that a step
// allocates nothing for them. It leaves out what they run (classifier.go,
// stage.go).

import "github.com/kiln-ml/kiln/internal/backend"

// call is one backend.Run call's arguments and results.
type call struct {
	s   *slot          // the staging slot the call reads or sends
	n   int            // examples
	x   backend.Buffer // the forward pass's input, for Predictor
	y   backend.Buffer // the forward pass's output
	err error
}

// bindCalls makes the functions onThread runs.
func (c *Classifier) bindCalls() {
	c.trainCall = func() { c.cur.err = c.trainOn(c.cur.s, c.cur.n) }
	c.evalCall = func() {
		s := c.cur.s
		s.st.Acquire()
		c.cur.err = c.lossOn(s, c.cur.n)
		s.st.Release()
	}
	c.fwdCall = func() { c.cur.y, c.cur.err = c.run(c.cur.x, c.cur.n) }
	c.sendCall = func() {
		s, n := c.cur.s, c.cur.n
		c.cur.err = s.st.Send(s.x.Slice(0, n*c.prog.layers[0].in), s.labels.Slice(0, n))
	}
}

// onThread runs f, one of bindCalls' functions, on args through
// backend.Run, and returns the error it left; cur keeps its results until
// the next call.
func (c *Classifier) onThread(f func(), args call) error {
	c.cur = args
	backend.Run(c.b, f)
	return c.cur.err
}
