package dist

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// each runs f on every rank of a group of n, concurrently.
func each(n int, timeout time.Duration, f func(c Communicator) error) []error {
	cs := NewGroup(n, timeout)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range cs {
		wg.Go(func() { errs[r] = f(c) })
	}
	wg.Wait()
	return errs
}

func TestGroupCollectives(t *testing.T) {
	const n = 3
	var mu sync.Mutex
	got := map[int][]string{}
	errs := each(n, time.Minute, func(c Communicator) error {
		r := c.Rank()
		// 0.1 + 0.2 + 0.3 in rank order, the same bits on every rank.
		f := []float32{0.1 * float32(r+1), float32(r)}
		if err := c.AllReduce(f); err != nil {
			return err
		}
		d := []float64{float64(r), 1}
		if err := c.AllReduce64(d); err != nil {
			return err
		}
		b := []byte{byte(r), byte(r)}
		if err := c.Broadcast(b, 1); err != nil {
			return err
		}
		all := make([]byte, 2*n)
		if err := c.AllGather([]byte{byte(10 + r), byte(20 + r)}, all); err != nil {
			return err
		}
		if err := c.Barrier(); err != nil {
			return err
		}
		mu.Lock()
		got[r] = []string{fmt.Sprint(f), fmt.Sprint(d), fmt.Sprint(b), fmt.Sprint(all)}
		mu.Unlock()
		return nil
	})
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	want := []string{fmt.Sprint([]float32{(0.1 + 0.2) + float32(0.1*3), 3}), "[3 3]", "[1 1]", "[10 20 11 21 12 22]"}
	for r := range n {
		if strings.Join(got[r], " ") != strings.Join(want, " ") {
			t.Errorf("rank %d: %v, want %v", r, got[r], want)
		}
	}
}

// TestGroupTimeoutNamesTheMissingRank checks that a collective some rank
// never joins fails on the others within the timeout, naming that rank.
func TestGroupTimeoutNamesTheMissingRank(t *testing.T) {
	errs := each(3, 50*time.Millisecond, func(c Communicator) error {
		if c.Rank() == 2 {
			return nil
		}
		return c.AllReduce([]float32{1, 2})
	})
	for r, err := range errs[:2] {
		if err == nil || !strings.Contains(err.Error(), "rank 2 of 3 never joined") {
			t.Errorf("rank %d: %v, want a timeout naming rank 2", r, err)
		}
	}
}

func TestSameBitsAndHosts(t *testing.T) {
	errs := each(3, time.Minute, func(c Communicator) error {
		v := []float32{1, 2, 3}
		if c.Rank() == 2 {
			v[1] = 2.0000002
		}
		d, err := SameBits(c, v)
		if err != nil || d != 2 {
			return fmt.Errorf("SameBits = %d, %v; want rank 2", d, err)
		}
		hosts, err := Hosts(c)
		if err != nil || len(hosts) != 3 || hosts[0] == "" || hosts[0] != hosts[2] {
			return fmt.Errorf("Hosts = %q, %v", hosts, err)
		}
		return nil
	})
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
	if err := (Local{}).Broadcast([]byte{1}, 1); err == nil {
		t.Error("Local broadcast from rank 1: no error")
	}
	var out [2]byte
	if err := (Local{}).AllGather([]byte{4, 5}, out[:]); err != nil || !bytes.Equal(out[:], []byte{4, 5}) {
		t.Errorf("Local all-gather: %v %v", out, err)
	}
}

func TestCheckNamesTheFirstDifference(t *testing.T) {
	errs := each(3, time.Minute, func(c Communicator) error {
		data := "4000 training images"
		if c.Rank() == 2 {
			data = "3990 training images"
		}
		return Check(c, []string{"a", "b", "c"}, []Field{{"--model", "seed-cnn"}, {"the training data", data}, {"--lr", fmt.Sprint(c.Rank())}})
	})
	for r, err := range errs {
		want := `the training data: rank 2 (c) has "3990 training images", rank 0 (a) has "4000 training images"`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rank %d: %v, want an error naming %s", r, err, want)
		}
	}
	errs = each(2, time.Minute, func(c Communicator) error {
		return Check(c, nil, []Field{{"--model", "seed-cnn"}})
	})
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v for agreeing ranks", r, err)
		}
	}
}
