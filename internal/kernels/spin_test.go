package kernels

import (
	"testing"
	"time"
)

// TestReceive takes values sent while the receiver spins, after it has
// gone to sleep, and in order.
func TestReceive(t *testing.T) {
	ch := make(chan int, 4)
	ch <- 1
	ch <- 2
	if a, b := receive(ch), receive(ch); a != 1 || b != 2 {
		t.Fatalf("got %d, %d from a full channel, want 1, 2", a, b)
	}
	for _, delay := range []time.Duration{spinFor / 4, 3 * spinFor} {
		go func() {
			time.Sleep(delay)
			ch <- int(delay)
		}()
		if got := receive(ch); got != int(delay) {
			t.Errorf("sent after %v: got %d", delay, got)
		}
	}
}

// TestJoin waits for workers that finish at once, while the caller spins,
// and after it has gone to sleep, and is ready again for the next call.
func TestJoin(t *testing.T) {
	var j join
	for _, delay := range []time.Duration{0, spinFor / 4, 3 * spinFor} {
		var done [3]bool
		j.Add(len(done))
		for k := range done {
			go func() {
				time.Sleep(delay)
				done[k] = true
				j.Done()
			}()
		}
		j.Wait()
		for k, d := range done {
			if !d {
				t.Errorf("delay %v: Wait returned before worker %d finished", delay, k)
			}
		}
	}
}
