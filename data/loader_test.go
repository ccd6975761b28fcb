package data

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeDS is a dataset whose example i holds i, then one draw of the rng per
// remaining value (-1 without rng), so both order and augmentation show.
type fakeDS struct {
	n      int
	shape  []int
	failAt int // index whose Get fails; -1 for none
	delay  time.Duration
}

func newFake(n int) *fakeDS { return &fakeDS{n: n, shape: []int{2, 3}, failAt: -1} }

func (d *fakeDS) Len() int          { return d.n }
func (d *fakeDS) Shape() []int      { return d.shape }
func (d *fakeDS) Classes() []string { return []string{"a", "b", "c"} }
func (d *fakeDS) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	if i == d.failAt {
		return 0, fmt.Errorf("bad example")
	}
	if d.delay > 0 {
		time.Sleep(d.delay)
	}
	x[0] = float32(i)
	for k := 1; k < len(x); k++ {
		x[k] = -1
		if rng != nil {
			x[k] = rng.Float32()
		}
	}
	return i % 3, nil
}

type batchCopy struct {
	X     []float32
	Shape []int
	Y     []int
	Idx   []int
	Pos   int
}

func collect(t *testing.T, l *Loader, epoch, start int) []batchCopy {
	t.Helper()
	it, err := l.Epoch(context.Background(), epoch, start)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []batchCopy
	for it.Next() {
		b := it.Batch()
		out = append(out, batchCopy{slices.Clone(b.X), slices.Clone(b.Shape), slices.Clone(b.Y), slices.Clone(b.Indices), b.Pos})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLoaderSameForAnyWorkers checks that order and augmentation depend only
// on the seed and epoch: 0 (inline), 1 and 4 workers give identical batches.
func TestLoaderSameForAnyWorkers(t *testing.T) {
	ds := newFake(103)
	var ref []batchCopy
	for _, w := range []int{0, 1, 4} {
		l, err := NewLoader(ds, LoaderOptions{BatchSize: 10, Shuffle: true, Seed: 42, Workers: w, Prefetch: 3})
		if err != nil {
			t.Fatal(err)
		}
		got := collect(t, l, 2, 0)
		if len(got) != 11 || got[10].Shape[0] != 3 || len(got[10].X) != 3*6 {
			t.Fatalf("workers=%d: %d batches, last %v", w, len(got), got[len(got)-1].Shape)
		}
		if ref == nil {
			ref = got
			continue
		}
		for i := range got {
			if !slices.Equal(got[i].X, ref[i].X) || !slices.Equal(got[i].Idx, ref[i].Idx) || got[i].Pos != i {
				t.Fatalf("workers=%d batch %d differs from inline decoding", w, i)
			}
		}
	}
	// Every example appears once, shuffled, with its own label.
	var seen []int
	for _, b := range ref {
		for j, idx := range b.Idx {
			if b.Y[j] != idx%3 || b.X[j*6] != float32(idx) {
				t.Fatalf("example %d has label %d / value %v", idx, b.Y[j], b.X[j*6])
			}
		}
		seen = append(seen, b.Idx...)
	}
	if slices.IsSorted(seen) {
		t.Error("shuffled epoch came out in order")
	}
	slices.Sort(seen)
	for i, v := range seen {
		if v != i {
			t.Fatalf("epoch did not visit every example once: %v", seen)
		}
	}
}

func TestLoaderEpochsAndSeeds(t *testing.T) {
	ds := newFake(50)
	mk := func(seed uint64, shuffle bool) *Loader {
		l, err := NewLoader(ds, LoaderOptions{BatchSize: 8, Shuffle: shuffle, Seed: seed, Workers: 2, DropLast: true})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a := collect(t, mk(1, true), 0, 0)
	if len(a) != 6 {
		t.Fatalf("drop-last epoch of 50 by 8 has %d batches", len(a))
	}
	if b := collect(t, mk(1, true), 1, 0); slices.Equal(a[0].Idx, b[0].Idx) {
		t.Error("epochs 0 and 1 start with the same order")
	}
	if b := collect(t, mk(2, true), 0, 0); slices.Equal(a[0].Idx, b[0].Idx) {
		t.Error("seeds 1 and 2 give the same order")
	}
	seq := collect(t, mk(1, false), 3, 0)
	if !slices.Equal(seq[1].Idx, []int{8, 9, 10, 11, 12, 13, 14, 15}) {
		t.Errorf("unshuffled batch 1 is %v", seq[1].Idx)
	}
	// Without shuffling, augmentation still changes from epoch to epoch.
	if seq2 := collect(t, mk(1, false), 4, 0); slices.Equal(seq[0].X, seq2[0].X) {
		t.Error("augmentation repeated across epochs")
	}
}

// TestLoaderResume checks that starting at batch k gives exactly batches k...
// of the full epoch, augmentation included.
func TestLoaderResume(t *testing.T) {
	l, err := NewLoader(newFake(77), LoaderOptions{BatchSize: 9, Shuffle: true, Seed: 5, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	full := collect(t, l, 7, 0)
	for _, k := range []int{1, 4, 8, 9} {
		part := collect(t, l, 7, k)
		if len(part) != len(full)-k {
			t.Fatalf("resume at %d: %d batches, want %d", k, len(part), len(full)-k)
		}
		for i := range part {
			if !slices.Equal(part[i].X, full[k+i].X) || part[i].Pos != k+i {
				t.Fatalf("resume at %d: batch %d differs", k, k+i)
			}
		}
	}
	if _, err := l.Epoch(context.Background(), 0, 10); err == nil {
		t.Error("start past the end was accepted")
	}
}

func TestLoaderGetError(t *testing.T) {
	for _, w := range []int{0, 4} {
		ds := newFake(64)
		ds.failAt = 37
		l, _ := NewLoader(ds, LoaderOptions{BatchSize: 4, Workers: w})
		before := runtime.NumGoroutine()
		it, err := l.Epoch(context.Background(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for it.Next() {
			n++
		}
		it.Close()
		if err := it.Err(); err == nil || !strings.Contains(err.Error(), "example 37") || !strings.Contains(err.Error(), "bad example") {
			t.Errorf("workers=%d: error %v", w, err)
		}
		if n != 9 {
			t.Errorf("workers=%d: %d batches before the failing one, want 9", w, n)
		}
		waitGoroutines(t, before)
	}
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	for range 100 {
		if runtime.NumGoroutine() <= want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Errorf("%d goroutines left running, want %d", runtime.NumGoroutine(), want)
}

func TestLoaderCancelAndClose(t *testing.T) {
	ds := newFake(1000)
	ds.delay = 200 * time.Microsecond
	l, _ := NewLoader(ds, LoaderOptions{BatchSize: 10, Workers: 3})
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	it, _ := l.Epoch(ctx, 0, 0)
	for i := 0; i < 3 && it.Next(); i++ {
	}
	cancel()
	for it.Next() {
	}
	if !errors.Is(it.Err(), context.Canceled) {
		t.Errorf("after cancel: %v", it.Err())
	}
	it.Close()
	waitGoroutines(t, before)

	it, _ = l.Epoch(context.Background(), 0, 0)
	it.Next()
	it.Close()
	if it.Next() || it.Err() != nil {
		t.Errorf("Next after Close: err %v", it.Err())
	}
	it.Close()
	waitGoroutines(t, before)
}

// TestLoaderSteadyStateAllocs checks that a whole epoch of many batches
// allocates a fixed handful of objects (setup), not some per batch.
func TestLoaderSteadyStateAllocs(t *testing.T) {
	ds := newFake(4000)
	l, _ := NewLoader(ds, LoaderOptions{BatchSize: 8, Shuffle: true, Workers: 2})
	epoch := func() {
		it, err := l.Epoch(context.Background(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
		}
		it.Close()
	}
	epoch()
	allocs := testing.AllocsPerRun(5, epoch)
	if perBatch := allocs / float64(l.NumBatches()); perBatch > 0.1 {
		t.Errorf("%.0f allocations per epoch of %d batches", allocs, l.NumBatches())
	}
}

func TestLoaderOptionsErrors(t *testing.T) {
	for _, o := range []LoaderOptions{{BatchSize: 0}, {BatchSize: 1, Workers: -1}} {
		if _, err := NewLoader(newFake(3), o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
