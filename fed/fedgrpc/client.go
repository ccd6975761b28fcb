package fedgrpc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/kiln-ml/kiln/fed"
)

// errBye ends a session whose server said the run is over.
var errBye = errors.New("fed/fedgrpc: the server said goodbye")

// RunClient connects to the server at addr (host:port) as name and answers
// its instructions with h, one at a time, until the server says the run is
// over (it returns nil), ctx ends (ctx's error), the server refuses the
// client for good (a wrong token, a bad name, a name still connected after
// retries) or it could not connect for Options.GiveUpAfter. A dropped
// connection is retried with backoff; each rejoin is a new connection, so
// the server sees a new client of the same name.
func RunClient(ctx context.Context, addr, name string, h fed.Handler, o Options) error {
	if err := validName(name); err != nil {
		return err
	}
	minWait, maxWait, giveUp := o.MinBackoff, o.MaxBackoff, o.GiveUpAfter
	if minWait <= 0 {
		minWait = 200 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	if giveUp <= 0 {
		giveUp = 2 * time.Minute
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6b696c6e))
	wait, lastUp, dups := minWait, time.Now(), 0
	for {
		joined, err := session(ctx, addr, name, h, o)
		switch {
		case errors.Is(err, errBye):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		}
		if joined {
			wait, lastUp, dups = minWait, time.Now(), 0
		}
		st, _ := status.FromError(err)
		switch st.Code() {
		case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented, codes.ResourceExhausted:
			return fmt.Errorf("fed/fedgrpc: the server at %s refused client %q: %s", addr, name, st.Message())
		case codes.AlreadyExists:
			// The server may not have noticed yet that this client's
			// previous connection is gone; after a few tries it is another
			// client's name.
			if dups++; dups > 5 {
				return fmt.Errorf("fed/fedgrpc: the server at %s refused client %q: %s", addr, name, st.Message())
			}
		case codes.Unavailable:
			if strings.Contains(st.Message(), "handshake failed") {
				return fmt.Errorf("fed/fedgrpc: TLS with the server at %s failed (check --ca, or whether the server uses TLS): %s", addr, st.Message())
			}
		}
		if time.Since(lastUp) > giveUp {
			return fmt.Errorf("fed/fedgrpc: no connection to %s for %v: %w", addr, giveUp.Round(time.Second), err)
		}
		pause := time.Duration(float64(wait) * (0.8 + 0.4*rng.Float64()))
		o.logf("fed/fedgrpc: client %q: %v; retrying in %v", name, err, pause.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		wait = min(2*wait, maxWait)
	}
}

// session holds one connection: it joins, answers instructions until the
// stream ends, and reports whether the server accepted the join.
func session(ctx context.Context, addr, name string, h fed.Handler, o Options) (joined bool, err error) {
	every, timeout := o.keepalive()
	cc, err := grpc.NewClient(addr, o.creds(),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(o.maxMessage()), grpc.MaxCallSendMsgSize(o.maxMessage()), grpc.CallContentSubtype(codecName)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 2 * every, Timeout: timeout, PermitWithoutStream: true}))
	if err != nil {
		return false, fmt.Errorf("fed/fedgrpc: server address %q: %w", addr, err)
	}
	defer cc.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.Token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, tokenKey, "Bearer "+o.Token)
	}
	stream, err := cc.NewStream(ctx, &serviceDesc.Streams[0], fullMethod)
	if err != nil {
		return false, err
	}
	w := &worker{h: h, stream: stream, cancels: map[uint64]context.CancelFunc{}, wake: make(chan struct{}, 1),
		failed: func(in *fed.Instruction, err error) {
			o.logf("fed/fedgrpc: client %q: round %d: %s failed: %v", name, in.Round, in.Kind, err)
		}}
	if err := w.send(&frame{Type: msgJoin, Name: name}); err != nil {
		return false, err
	}
	done := make(chan struct{})
	go func() { w.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for {
		var f frame
		if err := stream.RecvMsg(&f); err != nil {
			return joined, err
		}
		switch f.Type {
		case msgJoin:
			joined = true
			o.logf("fed/fedgrpc: client %q joined %s", name, addr)
		case msgInstruction:
			joined = true
			what := string(f.In.Kind)
			if f.In.Stage != "" {
				what += " " + f.In.Stage
			}
			o.logf("fed/fedgrpc: client %q: round %d: %s", name, f.In.Round, what)
			w.push(ctx, &f)
		case msgCancel:
			w.cancel(f.ID)
		case msgBye:
			o.logf("fed/fedgrpc: client %q: the server said goodbye: %s", name, f.Name)
			stream.CloseSend()
			return true, errBye
		default:
			return joined, status.Errorf(codes.InvalidArgument, "fed/fedgrpc: the server sent a message of type %d", f.Type)
		}
	}
}

// worker runs a session's instructions one at a time, in order.
type worker struct {
	h      fed.Handler
	stream grpc.ClientStream
	sendMu sync.Mutex
	failed func(*fed.Instruction, error) // logs an instruction the handler failed, here as well as at the server

	mu      sync.Mutex
	queue   []job
	cancels map[uint64]context.CancelFunc
	wake    chan struct{}
}

type job struct {
	f   *frame
	ctx context.Context
}

func (w *worker) send(f *frame) error {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	return w.stream.SendMsg(f)
}

func (w *worker) push(ctx context.Context, f *frame) {
	ctx, cancel := context.WithCancel(ctx)
	w.mu.Lock()
	w.queue = append(w.queue, job{f, ctx})
	w.cancels[f.ID] = cancel
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) cancel(id uint64) {
	w.mu.Lock()
	cancel := w.cancels[id]
	delete(w.cancels, id)
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// run handles queued instructions until ctx ends. An instruction the server
// cancelled gets no reply: the server has stopped waiting for it.
func (w *worker) run(ctx context.Context) {
	for {
		w.mu.Lock()
		var j job
		ok := len(w.queue) > 0
		if ok {
			j, w.queue = w.queue[0], w.queue[1:]
		}
		w.mu.Unlock()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			}
			continue
		}
		if j.ctx.Err() != nil {
			continue
		}
		re, err := w.h.Handle(j.ctx, j.f.In)
		cancelled := j.ctx.Err() != nil
		w.cancel(j.f.ID) // releases j.ctx
		if ctx.Err() != nil {
			return
		}
		if cancelled {
			continue // by the server while running: it no longer waits
		}
		out := &frame{Type: msgReply, ID: j.f.ID, Re: re}
		if err != nil {
			w.failed(j.f.In, err)
			out.Re, out.Err = nil, err.Error()
			if out.Err == "" {
				out.Err = "the handler failed without a message"
			}
		} else if re == nil {
			out.Re = &fed.Reply{}
		}
		w.send(out) // a failed send ends the stream, which the session notices
	}
}
