package fedgrpc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/kiln-ml/kiln/fed"
)

// tokenKey is the metadata key that carries the shared token, as
// "Bearer TOKEN".
const tokenKey = "authorization"

// Server accepts clients over gRPC and registers each with a fed.Manager
// for as long as its stream lasts.
type Server struct {
	mgr  *fed.Manager
	o    Options
	grpc *grpc.Server

	mu    sync.Mutex
	conns map[*streamConn]bool
	bye   string // set by Finish: the reason sent to clients that join later
}

// NewServer returns a Server that registers its clients with mgr.
func NewServer(mgr *fed.Manager, o Options) *Server {
	every, timeout := o.keepalive()
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(o.maxMessage()),
		grpc.MaxSendMsgSize(o.maxMessage()),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: every, Timeout: timeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: every, PermitWithoutStream: true}),
		grpc.StreamInterceptor(checkToken(o.Token)),
	}
	if o.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(o.TLS)))
	}
	s := &Server{mgr: mgr, o: o, grpc: grpc.NewServer(opts...), conns: map[*streamConn]bool{}}
	s.grpc.RegisterService(&serviceDesc, s)
	return s
}

// Serve accepts connections on lis until Finish or Stop; it returns nil
// after them.
func (s *Server) Serve(lis net.Listener) error {
	err := s.grpc.Serve(lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fed/fedgrpc: serving on %s: %w", lis.Addr(), err)
	}
	return nil
}

// Finish tells every client the run is over (RunClient returns nil), waits
// up to five seconds for them to hang up, and stops the server.
func (s *Server) Finish(reason string) {
	s.mu.Lock()
	s.bye = reason
	conns := make([]*streamConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		go c.send(&frame{Type: msgBye, Name: reason}) // one blocked in a large send must not hold up the others
	}
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.grpc.Stop()
	}
}

// Stop closes every connection at once without a goodbye: clients try to
// reconnect, to a server resumed on the same address for instance.
func (s *Server) Stop() { s.grpc.Stop() }

// Serve serves mgr's clients on lis until ctx ends, then finishes (every
// client is told the run is over). It returns nil once ctx has ended.
func Serve(ctx context.Context, lis net.Listener, mgr *fed.Manager, o Options) error {
	s := NewServer(mgr, o)
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			s.Finish("the server stopped")
		case <-stopped:
		}
	}()
	err := s.Serve(lis)
	close(stopped)
	return err
}

// checkToken refuses streams without the shared token.
func checkToken(token string) grpc.StreamServerInterceptor {
	want := []byte("Bearer " + token)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if token != "" {
			md, _ := metadata.FromIncomingContext(ss.Context())
			got := md.Get(tokenKey)
			switch {
			case len(got) == 0:
				return status.Error(codes.Unauthenticated, "fed/fedgrpc: this server needs a token and the client sent none (give the client --token or KILN_FED_TOKEN)")
			case subtle.ConstantTimeCompare([]byte(got[0]), want) != 1:
				return status.Error(codes.Unauthenticated, "fed/fedgrpc: the client's token is not the server's (check --token or KILN_FED_TOKEN on both)")
			}
		}
		return handler(srv, ss)
	}
}

// connect serves one client's stream: its join, then its replies.
func (s *Server) connect(ss grpc.ServerStream) error {
	var join frame
	if err := ss.RecvMsg(&join); err != nil {
		return err
	}
	if join.Type != msgJoin {
		return status.Errorf(codes.InvalidArgument, "fed/fedgrpc: a client's first message must be a join, not type %d", join.Type)
	}
	if err := validName(join.Name); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	addr := "?"
	if p, ok := peer.FromContext(ss.Context()); ok {
		addr = p.Addr.String()
	}
	c := &streamConn{id: join.Name, ss: ss, pending: map[uint64]chan *frame{}, done: make(chan struct{})}
	s.mu.Lock()
	if s.bye != "" {
		s.mu.Unlock()
		return ss.SendMsg(&frame{Type: msgBye, Name: s.bye})
	}
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	if err := s.mgr.Register(c); err != nil {
		return status.Error(codes.AlreadyExists, err.Error())
	}
	if err := c.send(&frame{Type: msgJoin}); err != nil {
		c.end(err)
		return err
	}
	s.o.logf("fed/fedgrpc: client %q joined from %s", c.id, addr)
	err := c.receive()
	s.o.logf("fed/fedgrpc: client %q left: %v", c.id, err)
	return nil
}

// validName accepts 1 to 128 printable characters.
func validName(name string) error {
	if name == "" || len(name) > 128 || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("fed/fedgrpc: client name %q: want 1 to 128 printable characters", name)
	}
	return nil
}

// streamConn is the server's fed.Conn for one client's stream.
type streamConn struct {
	id string
	ss grpc.ServerStream

	sendMu sync.Mutex // grpc allows one SendMsg at a time

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan *frame
	done    chan struct{}
	cause   error // why the stream ended
}

var _ fed.Conn = (*streamConn)(nil)

// ID names the client.
func (c *streamConn) ID() string { return c.id }

// Done is closed once the stream has ended.
func (c *streamConn) Done() <-chan struct{} { return c.done }

func (c *streamConn) send(f *frame) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.ss.SendMsg(f)
}

// Do sends in and waits for its reply. When ctx ends first the client is
// told to cancel the instruction.
func (c *streamConn) Do(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
	c.mu.Lock()
	if c.cause != nil {
		c.mu.Unlock()
		return nil, c.disconnected()
	}
	c.next++
	id := c.next
	ch := make(chan *frame, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}
	if err := c.send(&frame{Type: msgInstruction, ID: id, In: in}); err != nil {
		forget()
		select {
		case <-c.done:
			return nil, c.disconnected()
		default:
		}
		// A failed send ends the stream: the client is gone for this
		// connection even if the stream's end has not been noticed yet.
		return nil, fmt.Errorf("%w: sending round %d's %s to client %q: %w", fed.ErrDisconnected, in.Round, in.Kind, c.id, err)
	}
	select {
	case f := <-ch:
		if f.Err != "" {
			return nil, fmt.Errorf("fed/fedgrpc: client %q, round %d's %s: %s", c.id, in.Round, in.Kind, f.Err)
		}
		return f.Re, nil
	case <-c.done:
		return nil, c.disconnected()
	case <-ctx.Done():
		forget()
		go c.send(&frame{Type: msgCancel, ID: id})
		return nil, ctx.Err()
	}
}

func (c *streamConn) disconnected() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Errorf("%w: %q (%v)", fed.ErrDisconnected, c.id, c.cause)
}

// receive delivers replies to the Do calls waiting for them until the
// stream ends, then closes Done and returns why it ended.
func (c *streamConn) receive() error {
	var err error
	for {
		var f frame
		if err = c.ss.RecvMsg(&f); err != nil {
			break
		}
		if f.Type != msgReply {
			err = fmt.Errorf("fed/fedgrpc: client %q sent a message of type %d; want replies after the join", c.id, f.Type)
			break
		}
		c.mu.Lock()
		ch := c.pending[f.ID]
		delete(c.pending, f.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- &f
		}
	}
	c.end(err)
	return err
}

// end records why the stream ended and closes Done.
func (c *streamConn) end(err error) {
	c.mu.Lock()
	c.cause = err
	c.mu.Unlock()
	close(c.done)
}
