package tfevents

// This file holds the Writer, which keeps an event file's records in memory
// and replaces the file atomically on Flush. It leaves out streaming appends:
// a run's scalars are a few hundred kilobytes at most, and rewriting them
// whole means a killed process never leaves a half-written record, and a
// resumed run can drop exactly the events after its checkpoint.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
)

// FileVersion is the file_version of the first event of every file.
const FileVersion = "brain.Event:2"

// Writer accumulates events for one event file.
type Writer struct {
	path string
	buf  []byte
	n    int
}

// FileName returns TensorBoard's name for an event file started at t on
// host: events.out.tfevents.<unix seconds>.<host>.
func FileName(t time.Time, host string) string {
	host = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, host)
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("events.out.tfevents.%d.%s", t.Unix(), host)
}

// NewWriter starts a new event file in dir, named by FileName(t, host). Its
// first event holds the file version. Nothing is written before Flush.
func NewWriter(dir string, t time.Time, host string) *Writer {
	w := &Writer{path: filepath.Join(dir, FileName(t, host))}
	w.Add(&Event{WallTime: wallTime(t), FileVersion: FileVersion})
	return w
}

// OpenWriter continues the event file at path with its first keep records,
// dropping any after them: those a killed run wrote past its last
// checkpoint, which the resumed run will write again.
func OpenWriter(path string, keep int) (*Writer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tfevents: %w", err)
	}
	r := bytes.NewReader(b)
	for i := 0; i < keep; i++ {
		if _, err := ReadRecord(r); err != nil {
			return nil, fmt.Errorf("tfevents: %s: record %d of the %d to keep: %w", path, i, keep, err)
		}
	}
	n := len(b) - r.Len()
	return &Writer{path: path, buf: b[:n:n], n: keep}, nil
}

// Path returns the event file's path.
func (w *Writer) Path() string { return w.path }

// Records returns the number of records so far, the count OpenWriter keeps.
func (w *Writer) Records() int { return w.n }

// Add appends one event.
func (w *Writer) Add(e *Event) {
	w.buf = AppendRecord(w.buf, e.Marshal())
	w.n++
}

// Scalar appends one scalar event: value under tag at step, logged at t.
func (w *Writer) Scalar(tag string, step int, value float64, t time.Time) {
	w.Add(&Event{WallTime: wallTime(t), Step: int64(step), Values: []Value{{Tag: tag, Value: float32(value)}}})
}

// Flush replaces the file with every event so far, atomically.
func (w *Writer) Flush() error {
	return checkpoint.WriteFileAtomic(w.path, func(out io.Writer) error {
		_, err := out.Write(w.buf)
		return err
	})
}

// wallTime is t in seconds since the epoch, as the Python writer's time.time().
func wallTime(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// ReadFile reads and decodes every event of an event file.
func ReadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tfevents: %w", err)
	}
	defer f.Close()
	recs, err := ReadRecords(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("tfevents: %s: %w", path, err)
	}
	out := make([]Event, len(recs))
	for i, r := range recs {
		if out[i], err = ParseEvent(r); err != nil {
			return out[:i], fmt.Errorf("tfevents: %s: record %d: %w", path, i, err)
		}
	}
	return out, nil
}
