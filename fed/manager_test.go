package fed

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func echo(ctx context.Context, in *Instruction) (*Reply, error) {
	return &Reply{NumExamples: in.Round, Params: in.Params}, nil
}

func TestManagerRegisterSampleAndLeave(t *testing.T) {
	m := NewManager()
	var conns []*LocalConn
	for _, id := range []string{"c", "a", "d", "b"} {
		c := Local(id, HandlerFunc(echo))
		conns = append(conns, c)
		if err := m.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Register(Local("a", HandlerFunc(echo))); err == nil {
		t.Fatal("a second client named a was accepted")
	}
	if got := m.IDs(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("IDs = %v", got)
	}
	ids := func(cs []Conn) []string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID())
		}
		return s
	}
	s1 := ids(m.Sample(2, rand.New(rand.NewPCG(1, 2))))
	s2 := ids(m.Sample(2, rand.New(rand.NewPCG(1, 2))))
	if len(s1) != 2 || !slices.Equal(s1, s2) {
		t.Fatalf("samples %v and %v: want the same 2 clients from the same seed", s1, s2)
	}
	seen := map[string]bool{}
	for seed := range uint64(40) {
		for _, id := range ids(m.Sample(1, rand.New(rand.NewPCG(seed, 0)))) {
			seen[id] = true
		}
	}
	if len(seen) != 4 {
		t.Fatalf("40 samples of one client drew only %v", seen)
	}
	if got := len(m.Sample(10, rand.New(rand.NewPCG(1, 2)))); got != 4 {
		t.Fatalf("sampling 10 of 4 gave %d", got)
	}

	conns[0].Close() // "c" leaves
	deadline := time.Now().Add(2 * time.Second)
	for m.Len() != 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := m.IDs(); !slices.Equal(got, []string{"a", "b", "d"}) {
		t.Fatalf("after c left: IDs = %v", got)
	}
	if _, err := conns[0].Do(context.Background(), &Instruction{}); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Do on a closed client: %v, want ErrDisconnected", err)
	}
}

func TestManagerWaitFor(t *testing.T) {
	m := NewManager()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := m.WaitFor(ctx, 1); err == nil {
		t.Fatal("WaitFor(1) with no clients returned nil")
	}
	done := make(chan error, 1)
	go func() { done <- m.WaitFor(context.Background(), 2) }()
	m.Register(Local("x", HandlerFunc(echo)))
	select {
	case err := <-done:
		t.Fatalf("WaitFor(2) returned %v with one client", err)
	case <-time.After(20 * time.Millisecond):
	}
	m.Register(Local("y", HandlerFunc(echo)))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("WaitFor(2) did not return once two clients joined")
	}
}

func TestLocalConnGivesUp(t *testing.T) {
	block := make(chan struct{})
	c := Local("slow", HandlerFunc(func(ctx context.Context, in *Instruction) (*Reply, error) {
		<-block
		return &Reply{}, nil
	}))
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, &Instruction{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a straggler past the deadline: %v", err)
	}
	go func() { time.Sleep(10 * time.Millisecond); c.Close() }()
	if _, err := c.Do(context.Background(), &Instruction{}); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("a client closed mid-call: %v", err)
	}
	r, err := Local("e", HandlerFunc(echo)).Do(context.Background(), &Instruction{Round: 3, Params: []float32{1, 2}})
	if err != nil || r.NumExamples != 3 || !slices.Equal(r.Params, []float32{1, 2}) {
		t.Fatalf("echo: %+v, %v", r, err)
	}
}
