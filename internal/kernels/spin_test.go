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
	if a, b := Receive(ch), Receive(ch); a != 1 || b != 2 {
		t.Fatalf("got %d, %d from a full channel, want 1, 2", a, b)
	}
	for _, delay := range []time.Duration{spinFor / 4, 3 * spinFor} {
		go func() {
			time.Sleep(delay)
			ch <- int(delay)
		}()
		if got := Receive(ch); got != int(delay) {
			t.Errorf("sent after %v: got %d", delay, got)
		}
	}
}
