package tfevents

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriterRoundTrip(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Unix(1700000000, 500_000_000)
	w := NewWriter(dir, t0, "box/1")
	if got := filepath.Base(w.Path()); got != "events.out.tfevents.1700000000.box_1" {
		t.Errorf("file name %q", got)
	}
	for step := 1; step <= 5; step++ {
		w.Scalar("loss", step, 1/float64(step), t0.Add(time.Duration(step)*time.Second))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	evs, err := ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 6 || evs[0].FileVersion != FileVersion || evs[0].WallTime != 1700000000.5 {
		t.Fatalf("events %+v", evs)
	}
	for i, e := range evs[1:] {
		if e.Step != int64(i+1) || len(e.Values) != 1 || e.Values[0].Tag != "loss" || e.Values[0].Value != float32(1/float64(i+1)) {
			t.Errorf("event %d: %+v", i+1, e)
		}
	}

	// A resumed run keeps the first records and writes on from there.
	w2, err := OpenWriter(w.Path(), 3)
	if err != nil {
		t.Fatal(err)
	}
	w2.Scalar("loss", 3, 7, t0)
	if err := w2.Flush(); err != nil {
		t.Fatal(err)
	}
	evs, err = ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 || w2.Records() != 4 || evs[3].Step != 3 || evs[3].Values[0].Value != 7 || evs[2].Step != 2 {
		t.Errorf("after resume: %d records, %+v", w2.Records(), evs)
	}
	if _, err := OpenWriter(w.Path(), 9); err == nil || !strings.Contains(err.Error(), "record 4") {
		t.Errorf("keeping more records than the file has: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if _, err := OpenWriter(filepath.Join(dir, "missing"), 1); !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
