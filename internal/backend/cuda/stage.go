//go:build cuda

package cuda

// This file holds the backend's staging slots: a batch is copied from
// pinned host memory on a second stream, so that the next batch's upload
// overlaps the kernels of the step before it, with two events ordering the
// streams; and Run, which puts a step's host code on the context's thread.
// It leaves out the learner that alternates two slots (package device).

import (
	"unsafe"

	"github.com/kiln-ml/kiln/internal/backend"
	cu "github.com/kiln-ml/kiln/internal/cuda"
)

var _ backend.Stager = (*Backend)(nil)

// stage is one slot: pinned host memory for the inputs and the labels, and
// two events: copied, recorded on the copy stream after the slot's last
// copy, and released, recorded on the compute stream after the last kernel
// that read what the copy wrote.
type stage struct {
	b                      *Backend
	hx, hl                 *cu.HostBuffer
	labels                 []int32 // hl's memory as int32s
	copied, released       *cu.Event
	copiedSet, releasedSet bool // copied, released have been recorded
}

// NewStage allocates a slot, and the copy stream with the first one.
func (b *Backend) NewStage(floats, ints int) (backend.Stage, error) {
	if b.cs == nil {
		cs, err := b.d.NewStream()
		if err != nil {
			return nil, err
		}
		b.cs = cs
	}
	s := &stage{b: b}
	var err error
	if s.hx, err = b.d.NewHostBuffer(max(floats, 1)); err != nil {
		return nil, err
	}
	if s.hl, err = b.d.NewHostBuffer(max(ints, 1)); err != nil {
		s.free()
		return nil, err
	}
	s.labels = unsafe.Slice((*int32)(unsafe.Pointer(&s.hl.Data[0])), len(s.hl.Data))
	if s.copied, err = b.d.NewEvent(false); err != nil {
		s.free()
		return nil, err
	}
	if s.released, err = b.d.NewEvent(false); err != nil {
		s.free()
		return nil, err
	}
	return s, nil
}

// Host waits on the host until the slot's last copy has read the pinned
// memory, and returns it.
func (s *stage) Host() ([]float32, []int32, error) {
	if s.copiedSet {
		if err := s.copied.Synchronize(); err != nil {
			return nil, nil, err
		}
	}
	return s.hx.Data, s.labels, nil
}

// Send queues the copies on the copy stream, behind the compute stream's
// last Release of this slot, and records copied.
func (s *stage) Send(x backend.Buffer, labels backend.IntBuffer) error {
	b := s.b
	if x.Len() > len(s.hx.Data) || labels.Len() > len(s.labels) {
		panic("cuda: stage: a send larger than the slot")
	}
	if s.releasedSet {
		if err := b.cs.Wait(s.released); err != nil {
			return err
		}
	}
	if x.Len() > 0 {
		if err := b.cs.UploadAsync(view(ptr(x), x.Len()), s.hx, x.Len()); err != nil {
			return err
		}
	}
	if labels.Len() > 0 {
		if err := b.cs.UploadAsync(view(iptr(labels), labels.Len()), s.hl, labels.Len()); err != nil {
			return err
		}
	}
	if err := s.copied.Record(b.cs); err != nil {
		return err
	}
	s.copiedSet = true
	return nil
}

// Acquire makes the compute stream wait for the slot's last copy.
func (s *stage) Acquire() {
	if s.copiedSet {
		s.b.keep(s.b.s.Wait(s.copied))
	}
}

// Release records released on the compute stream.
func (s *stage) Release() {
	s.b.keep(s.released.Record(s.b.s))
	s.releasedSet = true
}

// Free waits for the slot's copies, then releases its memory and events.
func (s *stage) Free() error {
	var err error
	if s.copiedSet {
		err = s.copied.Synchronize()
	}
	if ferr := s.free(); err == nil {
		err = ferr
	}
	return err
}

func (s *stage) free() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if s.copied != nil {
		keep(s.copied.Destroy())
	}
	if s.released != nil {
		keep(s.released.Destroy())
	}
	if s.hx != nil {
		keep(s.hx.Free())
	}
	if s.hl != nil {
		keep(s.hl.Free())
	}
	*s = stage{b: s.b}
	return first
}

var _ backend.Runner = (*Backend)(nil)

// Run runs fn on the thread that owns the GPU's context, where each
// driver call fn makes is a direct call. A closed device's error is kept
// for Sync.
func (b *Backend) Run(fn func()) { b.keep(b.d.Run(fn)) }
