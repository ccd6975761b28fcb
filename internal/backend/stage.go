package backend

// This file holds staging: copying a batch to the device while the ops of
// the step before it still run (on CUDA: pinned host memory, a second
// stream and events), and the synchronous stage every other backend gets.
// It leaves out the learner that drives it (package device).

// Stager is a Backend whose uploads can overlap its ops.
type Stager interface {
	// NewStage allocates a staging slot for up to floats float32s and
	// ints int32s.
	NewStage(floats, ints int) (Stage, error)
}

// Stage is one staging slot: host memory for a batch's inputs and labels,
// and their copy into device buffers, ordered against the backend's ops.
// A learner with two slots fills and sends one while the ops of the step
// that reads the other run:
//
//	x, y := s.Host()       // waits until the slot's last copy has read them
//	... fill x and y ...
//	s.Send(xbuf, ybuf)     // copies once the ops before s's last Release are done
//	s.Acquire()            // the ops queued next wait for the copy
//	... queue the step's ops, which read xbuf and ybuf ...
//	s.Release()            // those ops are the last to read them
//
// A Stage is used by one goroutine, as its backend is.
type Stage interface {
	// Host returns the slot's host memory, once the last Send has read
	// it.
	Host() ([]float32, []int32, error)
	// Send queues copying the first x.Len() floats and labels.Len() ints
	// of the host memory into x and labels, after every op queued before
	// the last Release. The host memory must not change until Host
	// returns it again.
	Send(x Buffer, labels IntBuffer) error
	// Acquire makes the ops queued after it wait for the last Send.
	Acquire()
	// Release marks the ops queued so far as the last that read what the
	// last Send wrote.
	Release()
	// Free waits for the slot's copies and releases it.
	Free() error
}

// NewStage returns a staging slot of b: its own when b is a Stager, else
// one whose Send is a synchronous Upload (which waits for the queued ops,
// so nothing overlaps and no ordering is needed).
func NewStage(b Backend, floats, ints int) (Stage, error) {
	if s, ok := b.(Stager); ok {
		return s.NewStage(floats, ints)
	}
	return &syncStage{b: b, x: make([]float32, floats), labels: make([]int32, ints)}, nil
}

// syncStage is the Stage of a backend without its own: Go memory and
// Upload.
type syncStage struct {
	b      Backend
	x      []float32
	labels []int32
}

func (s *syncStage) Host() ([]float32, []int32, error) { return s.x, s.labels, nil }

func (s *syncStage) Send(x Buffer, labels IntBuffer) error {
	if err := s.b.Upload(x, s.x[:x.Len()]); err != nil {
		return err
	}
	return s.b.UploadInts(labels, s.labels[:labels.Len()])
}

func (*syncStage) Acquire()    {}
func (*syncStage) Release()    {}
func (*syncStage) Free() error { return nil }
