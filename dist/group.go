package dist

// This file holds NewGroup: ranks that are goroutines of one process,
// sharing memory. It leaves out anything between processes (dist/mpi).

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// group is the state the ranks of one NewGroup share: what each has put
// in for the collective under way, and a two-phase barrier around it.
type group struct {
	size    int
	timeout time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	arrived int    // ranks at the current phase
	phase   uint64 // counts finished phases
	at      []uint64
	failed  error

	f32  [][]float32
	f64  [][]float64
	byts [][]byte
}

// member is one rank of a group.
type member struct {
	g    *group
	rank int
	s32  []float32 // scratch for sums
	s64  []float64
}

// NewGroup returns the n ranks of a group of goroutines: each must be used
// by its own goroutine. A collective that some rank does not join within
// timeout (0: wait forever) fails on every rank that did, with an error
// naming the ranks that did not; the group is unusable after that.
//
// AllReduce adds the ranks' values in rank order, 0 first, so every rank
// gets the same bits, and the same bits for any interleaving of the
// goroutines.
func NewGroup(n int, timeout time.Duration) []Communicator {
	if n < 1 {
		panic(fmt.Sprintf("dist: a group of %d ranks", n))
	}
	g := &group{size: n, timeout: timeout, at: make([]uint64, n),
		f32: make([][]float32, n), f64: make([][]float64, n), byts: make([][]byte, n)}
	g.cond = sync.NewCond(&g.mu)
	cs := make([]Communicator, n)
	for r := range cs {
		cs[r] = &member{g: g, rank: r}
	}
	return cs
}

func (m *member) Rank() int { return m.rank }
func (m *member) Size() int { return m.g.size }

// wait is a barrier: it returns when every rank has reached this phase.
func (m *member) wait(what string) error {
	g := m.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failed != nil {
		return g.failed
	}
	ph := g.phase
	g.at[m.rank] = ph + 1
	g.arrived++
	if g.arrived == g.size {
		g.arrived = 0
		g.phase++
		g.cond.Broadcast()
		return nil
	}
	var timer *time.Timer
	if g.timeout > 0 {
		timer = time.AfterFunc(g.timeout, func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.phase == ph && g.failed == nil {
				var late []string
				for r, at := range g.at {
					if at != ph+1 {
						late = append(late, fmt.Sprint(r))
					}
				}
				g.failed = fmt.Errorf("dist: %s timed out after %v: rank %s of %d never joined it", what, g.timeout, strings.Join(late, ", "), g.size)
				g.cond.Broadcast()
			}
		})
		defer timer.Stop()
	}
	for g.phase == ph && g.failed == nil {
		g.cond.Wait()
	}
	if g.phase == ph {
		return g.failed
	}
	return nil
}

func (m *member) AllReduce(buf []float32) error {
	g := m.g
	g.f32[m.rank] = buf
	if err := m.wait("all-reduce"); err != nil {
		return err
	}
	if err := m.sameLen(len(buf), func(r int) int { return len(g.f32[r]) }, "all-reduce"); err != nil {
		return err
	}
	if cap(m.s32) < len(buf) {
		m.s32 = make([]float32, len(buf))
	}
	s := m.s32[:len(buf)]
	copy(s, g.f32[0])
	for r := 1; r < g.size; r++ {
		for i, v := range g.f32[r] {
			s[i] += v
		}
	}
	if err := m.wait("all-reduce"); err != nil {
		return err
	}
	copy(buf, s)
	return nil
}

func (m *member) AllReduce64(buf []float64) error {
	g := m.g
	g.f64[m.rank] = buf
	if err := m.wait("all-reduce"); err != nil {
		return err
	}
	if err := m.sameLen(len(buf), func(r int) int { return len(g.f64[r]) }, "all-reduce"); err != nil {
		return err
	}
	if cap(m.s64) < len(buf) {
		m.s64 = make([]float64, len(buf))
	}
	s := m.s64[:len(buf)]
	copy(s, g.f64[0])
	for r := 1; r < g.size; r++ {
		for i, v := range g.f64[r] {
			s[i] += v
		}
	}
	if err := m.wait("all-reduce"); err != nil {
		return err
	}
	copy(buf, s)
	return nil
}

func (m *member) Broadcast(buf []byte, root int) error {
	g := m.g
	if err := checkRoot(root, g.size); err != nil {
		return err
	}
	g.byts[m.rank] = buf
	if err := m.wait("broadcast"); err != nil {
		return err
	}
	if err := m.sameLen(len(buf), func(r int) int { return len(g.byts[r]) }, "broadcast"); err != nil {
		return err
	}
	if m.rank != root {
		copy(buf, g.byts[root])
	}
	return m.wait("broadcast")
}

func (m *member) AllGather(send, recv []byte) error {
	g := m.g
	if len(recv) != len(send)*g.size {
		return fmt.Errorf("dist: all-gather of %d bytes from %d ranks into %d bytes", len(send), g.size, len(recv))
	}
	g.byts[m.rank] = send
	if err := m.wait("all-gather"); err != nil {
		return err
	}
	if err := m.sameLen(len(send), func(r int) int { return len(g.byts[r]) }, "all-gather"); err != nil {
		return err
	}
	for r := range g.size {
		copy(recv[r*len(send):], g.byts[r])
	}
	return m.wait("all-gather")
}

func (m *member) Barrier() error { return m.wait("barrier") }

// sameLen checks that every rank passed a buffer of n elements; a
// mismatch is a bug in the caller, reported on every rank.
func (m *member) sameLen(n int, lenOf func(r int) int, what string) error {
	for r := range m.g.size {
		if lenOf(r) != n {
			return fmt.Errorf("dist: %s of %d values on rank %d but %d on rank %d", what, n, m.rank, lenOf(r), r)
		}
	}
	return nil
}
