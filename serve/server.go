package serve

// This file holds the server: its options, routing, the token check,
// request accounting and draining, and the http.Server with the timeouts
// that cut off slow clients. The endpoints are in v2.go and v1.go.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options are the server's limits. Zero values take the defaults below.
type Options struct {
	MaxBatch  int           // examples per forward pass (1: no batching); default 32
	MaxDelay  time.Duration // the longest a request waits for a batch to fill; 0: batches take what is queued and never wait
	Queue     int           // requests a model may hold waiting; a full queue answers 429; default 256
	Timeout   time.Duration // a request's whole time in the server; default 30s
	MaxBody   int64         // request body bytes; larger bodies are 413; default 16 MiB
	MaxInputs int           // examples in one request; default 256
	Token     string        // when set, every request but health checks needs "Authorization: Bearer Token"

	// ReadHeaderTimeout and IdleTimeout bound slow and idle clients;
	// defaults 5s and 60s. ReadTimeout bounds reading a whole request;
	// default 30s.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	Version                                     string // kiln's version, for the server metadata
}

// withDefaults fills the zero options.
func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 32
	}
	if o.Queue == 0 {
		o.Queue = 256
	}
	if o.MaxBody == 0 {
		o.MaxBody = 16 << 20
	}
	if o.MaxInputs == 0 {
		o.MaxInputs = 256
	}
	def(&o.Timeout, 30*time.Second)
	def(&o.ReadHeaderTimeout, 5*time.Second)
	def(&o.ReadTimeout, 30*time.Second)
	def(&o.IdleTimeout, 60*time.Second)
	return o
}

// validate reports options that make no sense.
func (o Options) validate() error {
	switch {
	case o.MaxBatch < 1:
		return fmt.Errorf("serve: max batch %d: want at least 1", o.MaxBatch)
	case o.MaxDelay < 0 || o.Timeout < 0:
		return fmt.Errorf("serve: negative delay %v or timeout %v", o.MaxDelay, o.Timeout)
	case o.Queue < 1:
		return fmt.Errorf("serve: queue %d: want at least 1", o.Queue)
	case o.MaxBody < 1 || o.MaxInputs < 1:
		return fmt.Errorf("serve: body limit %d and inputs limit %d: want at least 1", o.MaxBody, o.MaxInputs)
	}
	return nil
}

// served is one model with its batcher and metrics.
type served struct {
	m   *Model
	b   *batcher
	met *modelMetrics
}

// Server answers inference requests for a set of models.
type Server struct {
	opt      Options
	models   map[string]*served
	token    [sha256.Size]byte
	draining atomic.Bool
	inflight atomic.Int64
	mux      *http.ServeMux

	mu       sync.Mutex
	unrouted map[int]uint64
	http     *http.Server
	closed   bool
}

// New starts a server's batchers for models; Close or Shutdown stops them.
func New(models []*Model, opt Options) (*Server, error) {
	opt = opt.withDefaults()
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if len(models) == 0 {
		return nil, errors.New("serve: no models to serve")
	}
	s := &Server{opt: opt, models: map[string]*served{}, unrouted: map[int]uint64{}, token: sha256.Sum256([]byte(opt.Token))}
	for _, m := range models {
		if err := m.check(); err != nil {
			return nil, err
		}
		if _, dup := s.models[m.Name]; dup {
			return nil, fmt.Errorf("serve: two models are called %s; name them apart", m.Name)
		}
		met := newModelMetrics()
		s.models[m.Name] = &served{m: m, met: met}
	}
	for _, sv := range s.models {
		sv.b = newBatcher(sv.m, opt.MaxBatch, opt.MaxDelay, opt.Queue, sv.met)
	}
	s.routes()
	return s, nil
}

// routes registers the endpoints.
func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/health/live", s.live)
	mux.HandleFunc("GET /v2/health/ready", s.ready)
	mux.HandleFunc("GET /v2", s.auth(s.serverMetadata))
	mux.HandleFunc("GET /v2/models/{name}", s.auth(s.modelMetadata))
	mux.HandleFunc("GET /v2/models/{name}/ready", s.auth(s.modelReady))
	mux.HandleFunc("POST /v2/models/{name}/infer", s.auth(s.infer))
	mux.HandleFunc("POST /v1/models/{verb}", s.auth(s.v1Predict)) // {name}:predict: a wildcard is a whole segment
	mux.HandleFunc("POST /v1/models/{name}/feedback", s.auth(s.feedback))
	mux.HandleFunc("GET /metrics", s.auth(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.writeMetrics(w)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, nil, "", http.StatusNotFound, fmt.Sprintf("no endpoint %s %s (try GET /v2/models/NAME or POST /v2/models/NAME/infer)", r.Method, r.URL.Path))
	})
	s.mux = mux
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		s.mux.ServeHTTP(w, r)
	})
}

// auth wraps h with the token check, compared in constant time (both
// sides hashed, so that the length does not leak either).
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	if s.opt.Token == "" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1 || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kiln"`)
			s.fail(w, nil, "", http.StatusUnauthorized, "missing or wrong token (send Authorization: Bearer TOKEN)")
			return
		}
		h(w, r)
	}
}

// model returns the served model named in the path, or answers 404.
func (s *Server) model(w http.ResponseWriter, name string) *served {
	sv := s.models[name]
	if sv == nil {
		s.fail(w, nil, "", http.StatusNotFound, fmt.Sprintf("no model %q (GET /v2/models/NAME for one of %s)", name, strings.Join(s.names(), ", ")))
	}
	return sv
}

// names returns the served models' names, sorted.
func (s *Server) names() []string {
	out := make([]string, 0, len(s.models))
	for n := range s.models {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// errorBody is every error's JSON, as the v2 protocol has it.
type errorBody struct {
	Error string `json:"error"`
}

// fail answers an error, counted against the model sv (nil: unrouted).
func (s *Server) fail(w http.ResponseWriter, sv *served, route string, code int, msg string) {
	if sv == nil {
		s.mu.Lock()
		s.unrouted[code]++
		s.mu.Unlock()
	}
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, errorBody{msg})
}

// writeJSON answers v as JSON with the status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do about it
}

// live answers the liveness probe: the process answers.
func (s *Server) live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

// ready answers the readiness probe: 503 while draining.
func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ready": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

// run queues x (n examples) for sv and waits for its logits; on failure it
// returns the status code and message to answer.
func (s *Server) run(ctx context.Context, sv *served, x []float32, n int) ([]float32, int, string) {
	if s.draining.Load() {
		return nil, http.StatusServiceUnavailable, "the server is shutting down"
	}
	j := &job{ctx: ctx, x: x, n: n}
	switch err := sv.b.submit(j); {
	case errors.Is(err, errQueueFull):
		return nil, http.StatusTooManyRequests, fmt.Sprintf("model %s has %d requests waiting; retry later", sv.m.Name, s.opt.Queue)
	case err != nil:
		return nil, http.StatusServiceUnavailable, "the server is shutting down"
	}
	select {
	case r := <-j.done:
		switch {
		case r.err == nil:
			return r.logits, http.StatusOK, ""
		case errors.Is(r.err, context.DeadlineExceeded):
			return nil, http.StatusGatewayTimeout, fmt.Sprintf("no answer within %v", s.opt.Timeout)
		case errors.Is(r.err, context.Canceled):
			return nil, 499, "the client went away"
		}
		return nil, http.StatusInternalServerError, r.err.Error()
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, http.StatusGatewayTimeout, fmt.Sprintf("no answer within %v", s.opt.Timeout)
		}
		return nil, 499, "the client went away"
	}
}

// Close stops the batchers at once, after the jobs they hold; for a server
// used through Handler alone (tests). Serve's servers use Shutdown.
func (s *Server) Close() {
	s.draining.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, sv := range s.models {
		sv.b.close()
	}
}

// Serve answers requests on l until Shutdown, with TLS when tlsConfig is
// not nil. It returns http.ErrServerClosed after Shutdown.
func (s *Server) Serve(l net.Listener, tlsConfig *tls.Config) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: s.opt.ReadHeaderTimeout, ReadTimeout: s.opt.ReadTimeout,
		WriteTimeout: s.opt.Timeout + 5*time.Second, IdleTimeout: s.opt.IdleTimeout, MaxHeaderBytes: 64 << 10, TLSConfig: tlsConfig}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.http = hs
	s.mu.Unlock()
	if tlsConfig != nil {
		return hs.ServeTLS(l, "", "")
	}
	return hs.Serve(l)
}

// Shutdown drains the server: readiness turns 503, new requests are
// refused with 503, and it waits (until ctx ends) for the requests in
// flight and the queued batches to finish, then stops the batchers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.mu.Lock()
	hs := s.http
	s.mu.Unlock()
	var err error
	if hs != nil {
		err = hs.Shutdown(ctx)
	}
	s.Close()
	return err
}
