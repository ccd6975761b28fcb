// Package fedgrpc carries package fed's instructions and replies over gRPC
// (google.golang.org/grpc) without protoc: the messages have a hand-written
// binary encoding (wire.go) registered as a grpc codec, and the service is a
// hand-written grpc.ServiceDesc with one bidirectional-streaming method.
//
// A client dials the server and holds one stream: it sends a join naming
// itself, then its replies; the server sends instructions, each tagged with
// a request id that the reply repeats, a cancel when it stops waiting for
// one, and a goodbye when the run is over. The server wraps each stream as
// a fed.Conn and registers it with a fed.Manager (Serve); the client side
// (RunClient) answers with a fed.Handler and reconnects with backoff when
// the connection drops, each time as a new connection.
//
// Security: TLS through credentials.NewTLS (ServerTLS, ClientTLS) and a
// shared token sent as per-RPC metadata and checked by a stream
// interceptor (codes.Unauthenticated). Messages may be far larger than
// gRPC's 4 MiB default (Options.MaxMessageBytes, 512 MiB unless set), and
// keepalive pings notice a peer that went away without closing its
// connection.
//
// Left out: the round engine (fed/server), what a client does with an
// instruction (fed/client), secure aggregation (fed/secure; it travels as
// KindSecAgg instructions like any other), compression of the parameter
// buffer, and authentication of clients beyond the shared token (no
// per-client certificates).
package fedgrpc
