package fed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
)

// Manager holds the clients connected now. Transports register each
// client that joins; a client is removed when its Conn's Done closes.
type Manager struct {
	mu      sync.Mutex
	conns   map[string]Conn
	changed chan struct{} // closed and replaced on every change
}

// NewManager returns a Manager with no clients.
func NewManager() *Manager {
	return &Manager{conns: map[string]Conn{}, changed: make(chan struct{})}
}

// Register adds c. A client whose ID is already connected is refused.
func (m *Manager) Register(c Conn) error {
	m.mu.Lock()
	if _, dup := m.conns[c.ID()]; dup {
		m.mu.Unlock()
		return fmt.Errorf("fed: a client named %q is already connected; give each client its own --name", c.ID())
	}
	m.conns[c.ID()] = c
	m.notifyLocked()
	m.mu.Unlock()
	go func() {
		<-c.Done()
		m.mu.Lock()
		if m.conns[c.ID()] == c {
			delete(m.conns, c.ID())
			m.notifyLocked()
		}
		m.mu.Unlock()
	}()
	return nil
}

func (m *Manager) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Len returns how many clients are connected.
func (m *Manager) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.conns)
}

// IDs returns the connected clients' IDs, sorted.
func (m *Manager) IDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.conns))
	for id := range m.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Get returns the client named id, if connected.
func (m *Manager) Get(id string) (Conn, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.conns[id]
	return c, ok
}

// WaitFor returns once at least n clients are connected, or with ctx's
// error.
func (m *Manager) WaitFor(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		have, ch := len(m.conns), m.changed
		m.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fed: %d of the %d clients needed are connected: %w", have, n, ctx.Err())
		}
	}
}

// Sample returns n of the connected clients (all of them if fewer are
// connected), drawn by rng from the clients sorted by ID, so the same
// clients and the same generator give the same sample.
func (m *Manager) Sample(n int, rng *rand.Rand) []Conn {
	ids := m.IDs()
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	if n < len(ids) {
		ids = ids[:n]
	}
	slices.Sort(ids)
	out := make([]Conn, 0, len(ids))
	for _, id := range ids {
		if c, ok := m.Get(id); ok {
			out = append(out, c)
		}
	}
	return out
}
