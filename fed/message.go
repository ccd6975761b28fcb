package fed

import (
	"context"
	"errors"
	"sync"
)

// Kind names what an Instruction asks of a client.
type Kind string

// The kinds of instruction.
const (
	KindFit      Kind = "fit"      // train from Params; reply with the new parameters
	KindEvaluate Kind = "evaluate" // evaluate Params on the client's own data; reply with metrics
	KindSecAgg   Kind = "secagg"   // one stage (Stage) of secure aggregation; Payload holds its message
)

// Instruction is what the server sends a client in a round.
type Instruction struct {
	Round   int               // from 1
	Kind    Kind              // what to do
	Stage   string            // for KindSecAgg: which stage of the protocol
	Params  []float32         // the global model's flat parameter buffer (fit, evaluate)
	Config  map[string]string // settings of this round: local epochs, learning rate, proximal mu, seed ...
	Payload []byte            // an opaque message for the stage (secure aggregation)
}

// Reply is what a client returns for an Instruction.
type Reply struct {
	NumExamples int                // examples trained on (fit) or evaluated (evaluate)
	Params      []float32          // fit: the client's parameters after local training
	Metrics     map[string]float64 // loss, accuracy and the like
	Payload     []byte             // an opaque message for the stage (secure aggregation)
}

// Handler is a client's side of the protocol: what it does with each
// instruction. Handle may be called for one instruction at a time.
type Handler interface {
	Handle(ctx context.Context, in *Instruction) (*Reply, error)
}

// HandlerFunc makes a function a Handler.
type HandlerFunc func(ctx context.Context, in *Instruction) (*Reply, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, in *Instruction) (*Reply, error) { return f(ctx, in) }

// Conn is the server's view of one connected client.
type Conn interface {
	// ID names the client; it is unique among the connected clients.
	ID() string
	// Do sends in and waits for the client's reply, ctx's end or the
	// client's disconnection, whichever comes first.
	Do(ctx context.Context, in *Instruction) (*Reply, error)
	// Done is closed once the client has disconnected.
	Done() <-chan struct{}
}

// ErrDisconnected is returned by Do once a client has gone.
var ErrDisconnected = errors.New("fed: client disconnected")

// Local returns a Conn that calls h in this process: simulation and tests.
// Close disconnects it.
func Local(id string, h Handler) *LocalConn {
	return &LocalConn{id: id, h: h, done: make(chan struct{})}
}

// LocalConn is an in-process client connection (Local).
type LocalConn struct {
	id   string
	h    Handler
	once sync.Once
	done chan struct{}
}

// ID names the client.
func (c *LocalConn) ID() string { return c.id }

// Done is closed by Close.
func (c *LocalConn) Done() <-chan struct{} { return c.done }

// Close disconnects the client: calls in flight and later fail with
// ErrDisconnected.
func (c *LocalConn) Close() { c.once.Do(func() { close(c.done) }) }

// Do runs the handler, giving up when ctx ends or the client is closed.
func (c *LocalConn) Do(ctx context.Context, in *Instruction) (*Reply, error) {
	select {
	case <-c.done:
		return nil, ErrDisconnected
	default:
	}
	type result struct {
		r   *Reply
		err error
	}
	ch := make(chan result, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		r, err := c.h.Handle(ctx, in)
		ch <- result{r, err}
	}()
	select {
	case res := <-ch:
		return res.r, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrDisconnected
	}
}
