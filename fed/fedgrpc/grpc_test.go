package fedgrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/fed"
)

// quick are options that retry fast, for tests.
func quick(o Options) Options {
	o.MinBackoff, o.MaxBackoff = 10*time.Millisecond, 100*time.Millisecond
	if o.GiveUpAfter == 0 {
		o.GiveUpAfter = 10 * time.Second
	}
	return o
}

// startServer serves a new Manager on a loopback port.
func startServer(t *testing.T, o Options) (string, *fed.Manager, *Server) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mgr := fed.NewManager()
	s := NewServer(mgr, o)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String(), mgr, s
}

// startClient runs RunClient until the test ends or stop is called; its
// result arrives on the channel.
func startClient(t *testing.T, addr, name string, h fed.Handler, o Options) (stop func(), result <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- RunClient(ctx, addr, name, h, quick(o)) }()
	t.Cleanup(cancel)
	return cancel, ch
}

func waitFor(t *testing.T, mgr *fed.Manager, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := mgr.WaitFor(ctx, n); err != nil {
		t.Fatal(err)
	}
}

func result(t *testing.T, ch <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(within):
		t.Fatalf("RunClient still running after %v", within)
		return nil
	}
}

// doubler trains nothing: it replies with twice the parameters, the round
// as its example count, and fails on round 13.
var doubler = fed.HandlerFunc(func(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
	if in.Round == 13 {
		return nil, errors.New("unlucky round")
	}
	p := make([]float32, len(in.Params))
	for i, v := range in.Params {
		p[i] = 2 * v
	}
	return &fed.Reply{NumExamples: in.Round, Params: p, Metrics: map[string]float64{"lr": parse(in.Config["lr"])}, Payload: in.Payload}, nil
})

func parse(s string) float64 {
	var v float64
	fmt.Sscan(s, &v)
	return v
}

func TestRoundTripAndGoodbye(t *testing.T) {
	addr, mgr, srv := startServer(t, Options{})
	_, ra := startClient(t, addr, "a", doubler, Options{})
	_, rb := startClient(t, addr, "b", doubler, Options{})
	waitFor(t, mgr, 2)
	if got := mgr.IDs(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("clients %v", got)
	}
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		c, _ := mgr.Get(id)
		for round := 1; round <= 3; round++ {
			in := &fed.Instruction{Round: round, Kind: fed.KindFit, Params: []float32{1, -2, float32(round)},
				Config: map[string]string{"lr": "0.5"}, Payload: []byte{byte(round)}}
			r, err := c.Do(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if r.NumExamples != round || !slices.Equal(r.Params, []float32{2, -4, 2 * float32(round)}) || r.Metrics["lr"] != 0.5 || !slices.Equal(r.Payload, []byte{byte(round)}) {
				t.Fatalf("client %s round %d: %+v", id, round, r)
			}
		}
		_, err := c.Do(ctx, &fed.Instruction{Round: 13, Kind: fed.KindEvaluate})
		if err == nil || !strings.Contains(err.Error(), "unlucky round") || !strings.Contains(err.Error(), `client "`+id+`"`) {
			t.Fatalf("a handler's error came back as %v", err)
		}
	}
	srv.Finish("the run finished")
	for _, ch := range []<-chan error{ra, rb} {
		if err := result(t, ch, 5*time.Second); err != nil {
			t.Fatalf("after the server finished, RunClient returned %v, want nil", err)
		}
	}
}

func TestToken(t *testing.T) {
	addr, mgr, _ := startServer(t, Options{Token: "s3cret"})
	for _, tc := range []struct{ token, want string }{
		{"wrong", "the client's token is not the server's"},
		{"", "the client sent none"},
	} {
		_, ch := startClient(t, addr, "c", doubler, Options{Token: tc.token})
		err := result(t, ch, 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "refused client") {
			t.Errorf("token %q: %v, want an error with %q", tc.token, err, tc.want)
		}
	}
	startClient(t, addr, "c", doubler, Options{Token: "s3cret"})
	waitFor(t, mgr, 1)
}

func TestDuplicateNameRefused(t *testing.T) {
	addr, mgr, _ := startServer(t, Options{})
	startClient(t, addr, "same", doubler, Options{})
	waitFor(t, mgr, 1)
	_, ch := startClient(t, addr, "same", doubler, Options{})
	err := result(t, ch, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), `a client named "same" is already connected`) {
		t.Fatalf("a second client of the same name: %v", err)
	}
	_, ch = startClient(t, addr, "bad\nname", doubler, Options{})
	if err := result(t, ch, time.Second); err == nil || !strings.Contains(err.Error(), "printable") {
		t.Fatalf("a name with a newline: %v", err)
	}
}

// TestDisconnectMidCall: a client that goes away while the server waits
// for its reply fails that call promptly with fed.ErrDisconnected and
// leaves the Manager.
func TestDisconnectMidCall(t *testing.T) {
	addr, mgr, _ := startServer(t, Options{})
	started := make(chan struct{})
	stop, _ := startClient(t, addr, "slow", fed.HandlerFunc(func(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}), Options{})
	waitFor(t, mgr, 1)
	c, _ := mgr.Get("slow")
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), &fed.Instruction{Round: 1, Kind: fed.KindFit})
		errc <- err
	}()
	<-started
	stop() // closes the client's connection
	t0 := time.Now()
	select {
	case err := <-errc:
		if !errors.Is(err, fed.ErrDisconnected) {
			t.Fatalf("Do of a client that left: %v, want fed.ErrDisconnected", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Do still waiting 5 s after its client left")
	}
	t.Logf("Do failed %v after the client closed its connection", time.Since(t0))
	select {
	case <-c.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed")
	}
	for deadline := time.Now().Add(2 * time.Second); mgr.Len() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the Manager still holds %v", mgr.IDs())
		}
	}
	if _, err := c.Do(context.Background(), &fed.Instruction{}); !errors.Is(err, fed.ErrDisconnected) {
		t.Fatalf("Do after the client left: %v", err)
	}
}

// TestCancelReachesClient: when the server stops waiting (a straggler past
// the round's timeout), the client's handler is cancelled and the client
// answers the next instruction.
func TestCancelReachesClient(t *testing.T) {
	addr, mgr, _ := startServer(t, Options{})
	cancelled := make(chan struct{})
	startClient(t, addr, "straggler", fed.HandlerFunc(func(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
		if in.Round == 1 {
			<-ctx.Done()
			close(cancelled)
			return nil, ctx.Err()
		}
		return &fed.Reply{NumExamples: in.Round}, nil
	}), Options{})
	waitFor(t, mgr, 1)
	c, _ := mgr.Get("straggler")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, &fed.Instruction{Round: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do past its deadline: %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the client's handler was not cancelled")
	}
	r, err := c.Do(context.Background(), &fed.Instruction{Round: 2})
	if err != nil || r.NumExamples != 2 {
		t.Fatalf("the next instruction: %+v, %v", r, err)
	}
}

// TestReconnect: a client whose server goes away without a goodbye joins
// the server that comes back on the same address, as a new connection.
func TestReconnect(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	mgr1 := fed.NewManager()
	s1 := NewServer(mgr1, Options{})
	go s1.Serve(lis)
	var joins atomic.Int32
	_, ch := startClient(t, addr, "r", fed.HandlerFunc(func(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
		joins.Add(1)
		return &fed.Reply{NumExamples: in.Round}, nil
	}), Options{})
	waitFor(t, mgr1, 1)
	c1, _ := mgr1.Get("r")
	if _, err := c1.Do(context.Background(), &fed.Instruction{Round: 1}); err != nil {
		t.Fatal(err)
	}
	s1.Stop()
	if _, err := c1.Do(context.Background(), &fed.Instruction{Round: 2}); !errors.Is(err, fed.ErrDisconnected) {
		t.Fatalf("Do after the server stopped: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // the client retries meanwhile
	lis2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	mgr2 := fed.NewManager()
	s2 := NewServer(mgr2, Options{})
	go s2.Serve(lis2)
	defer s2.Stop()
	waitFor(t, mgr2, 1)
	c2, _ := mgr2.Get("r")
	if r, err := c2.Do(context.Background(), &fed.Instruction{Round: 3}); err != nil || r.NumExamples != 3 {
		t.Fatalf("after rejoining: %+v, %v", r, err)
	}
	s2.Finish("done")
	if err := result(t, ch, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestLargeParams sends a parameter buffer far above gRPC's 4 MiB default
// each way: 30 M floats (120 MB), 2 M with -short.
func TestLargeParams(t *testing.T) {
	n := 30_000_000
	if testing.Short() {
		n = 2_000_000
	}
	addr, mgr, _ := startServer(t, Options{})
	startClient(t, addr, "big", doubler, Options{})
	waitFor(t, mgr, 1)
	c, _ := mgr.Get("big")
	p := make([]float32, n)
	for i := range p {
		p[i] = float32(i % 1000)
	}
	t0 := time.Now()
	r, err := c.Do(context.Background(), &fed.Instruction{Round: 1, Kind: fed.KindFit, Params: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d floats (%d MB) there and back in %v", n, 4*n>>20, time.Since(t0))
	if len(r.Params) != n {
		t.Fatalf("%d floats came back, want %d", len(r.Params), n)
	}
	for i := 0; i < n; i += 9973 {
		if r.Params[i] != 2*p[i] {
			t.Fatalf("param %d: %v, want %v", i, r.Params[i], 2*p[i])
		}
	}
	// Past the configured limit the send fails with a clear error.
	addr2, mgr2, _ := startServer(t, Options{MaxMessageBytes: 1 << 20})
	startClient(t, addr2, "small", doubler, Options{MaxMessageBytes: 1 << 20})
	waitFor(t, mgr2, 1)
	c2, _ := mgr2.Get("small")
	if _, err := c2.Do(context.Background(), &fed.Instruction{Params: make([]float32, 1<<18)}); err == nil || !strings.Contains(err.Error(), "larger than max") {
		t.Fatalf("a message over MaxMessageBytes: %v", err)
	}
}

// freezer forwards TCP connections to target until frozen, after which it
// keeps them open and silent: a peer that vanished without closing its
// connection (a cable pulled, a machine powered off).
type freezer struct {
	lis    net.Listener
	frozen atomic.Bool
}

func newFreezer(t *testing.T, target string) *freezer {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{lis: lis}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			in, err := lis.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			t.Cleanup(func() { in.Close(); out.Close() })
			go f.pipe(in, out)
			go f.pipe(out, in)
		}
	}()
	return f
}

func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if f.frozen.Load() {
			continue // swallowed: nothing reaches the other side any more
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// TestKeepaliveNoticesSilentClient: a client whose connection stays open
// but goes silent is dropped by the server's keepalive ping, failing the
// call waiting on it with fed.ErrDisconnected.
func TestKeepaliveNoticesSilentClient(t *testing.T) {
	addr, mgr, _ := startServer(t, Options{Keepalive: time.Second, KeepaliveTimeout: 500 * time.Millisecond})
	proxy := newFreezer(t, addr)
	startClient(t, proxy.lis.Addr().String(), "vanishing", fed.HandlerFunc(func(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}), Options{})
	waitFor(t, mgr, 1)
	c, _ := mgr.Get("vanishing")
	proxy.frozen.Store(true)
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // without keepalive, Do would wait for ever
	defer cancel()
	_, err := c.Do(ctx, &fed.Instruction{Round: 1, Kind: fed.KindFit})
	if !errors.Is(err, fed.ErrDisconnected) {
		t.Fatalf("Do on a silent client: %v", err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("the silent client was noticed after %v; keepalive is 1 s + 0.5 s", d)
	}
	t.Logf("a silent client noticed after %v (keepalive 1 s, timeout 0.5 s)", time.Since(t0))
}
