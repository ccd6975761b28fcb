package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitDepth waits until the model's queue holds n jobs.
func waitDepth(t *testing.T, s *Server, name string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.models[name].b.depth() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("queue depth %d, want %d", s.models[name].b.depth(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// predictAsync sends n predict requests of one white image each and
// returns their statuses on a channel.
func predictAsync(t *testing.T, url string, n int) chan int {
	img := pngOf(t, 4, 4, 255)
	codes := make(chan int, n)
	for range n {
		go func() {
			resp, err := http.Post(url+"/v1/models/m:predict", "image/png", strings.NewReader(string(img)))
			if err != nil {
				codes <- -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	return codes
}

// TestDynamicBatching holds the first forward pass while nine more
// requests queue, and requires them to run in batches of at most four, in
// order: [1 4 4 1].
func TestDynamicBatching(t *testing.T) {
	f := &fake{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	s, ts := start(t, Options{MaxBatch: 4, MaxDelay: 20 * time.Millisecond}, imageModel(f, ""))
	codes := predictAsync(t, ts.URL, 1)
	<-f.entered
	more := predictAsync(t, ts.URL, 9)
	waitDepth(t, s, "m", 9)
	close(f.gate)
	got := []int{<-codes}
	for range 9 {
		got = append(got, <-more)
	}
	for _, c := range got {
		if c != 200 {
			t.Fatalf("statuses %v, want all 200", got)
		}
	}
	// Jobs already queued join a batch even past MaxDelay, so the sizes
	// do not depend on timing.
	if b := f.sizes(); !slices.Equal(b, []int{1, 4, 4, 1}) {
		t.Errorf("batch sizes %v, want [1 4 4 1]", b)
	}
}

// TestMaxDelay requires a lone request to run after MaxDelay, not before
// and not much later.
func TestMaxDelay(t *testing.T) {
	f := &fake{}
	_, ts := start(t, Options{MaxBatch: 8, MaxDelay: 80 * time.Millisecond}, imageModel(f, ""))
	t0 := time.Now()
	code, body := do(t, "POST", ts.URL+"/v1/models/m:predict", "image/png", "", pngOf(t, 4, 4, 1))
	if d := time.Since(t0); code != 200 || d < 80*time.Millisecond || d > 5*time.Second {
		t.Errorf("status %d after %v, want 200 after 80ms: %s", code, d, body)
	}
}

// TestQueueFull fills a queue of two behind a held forward pass and
// requires the next request to get 429 at once.
func TestQueueFull(t *testing.T) {
	f := &fake{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	s, ts := start(t, Options{MaxBatch: 1, Queue: 2}, imageModel(f, ""))
	first := predictAsync(t, ts.URL, 1)
	<-f.entered
	queued := predictAsync(t, ts.URL, 2)
	waitDepth(t, s, "m", 2)
	code, body := do(t, "POST", ts.URL+"/v1/models/m:predict", "image/png", "", pngOf(t, 4, 4, 1))
	wantStatus(t, "full queue", code, body, 429, "2 requests waiting")
	close(f.gate)
	if c := []int{<-first, <-queued, <-queued}; !slices.Equal(c, []int{200, 200, 200}) {
		t.Errorf("queued requests: %v, want 200s", c)
	}
	_, metrics := do(t, "GET", ts.URL+"/metrics", "", "", nil)
	if !strings.Contains(metrics, `kiln_requests_total{model="m",route="v1_predict",code="429"} 1`) {
		t.Errorf("metrics lack the 429:\n%s", metrics)
	}
}

func TestTimeout(t *testing.T) {
	f := &fake{gate: make(chan struct{})}
	_, ts := start(t, Options{Timeout: 50 * time.Millisecond}, imageModel(f, ""))
	defer close(f.gate)
	code, body := do(t, "POST", ts.URL+"/v1/models/m:predict", "image/png", "", pngOf(t, 4, 4, 1))
	wantStatus(t, "held model", code, body, 504, "no answer within 50ms")
}

// TestBodyLimit sends a body declared larger than the limit, only its
// first bytes, and requires a 413 without the rest; and an undeclared
// (chunked) one that grows past the limit.
func TestBodyLimit(t *testing.T) {
	_, ts := start(t, Options{MaxBody: 1000}, imageModel(&fake{}, ""))
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000000\r\n\r\n%s", strings.Repeat("x", 100))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	wantStatus(t, "declared", resp.StatusCode, string(b), 413, "larger than the 1000-byte limit")

	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, 5000))
		pw.Close()
	}()
	resp, err = http.Post(ts.URL+"/v2/models/m/infer", "application/json", pr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	wantStatus(t, "chunked", resp.StatusCode, string(b), 413, "larger than the 1000-byte limit")
}

// serveLoopback runs s on a loopback port and returns its address and
// Serve's result.
func serveLoopback(t *testing.T, s *Server) (string, chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l, nil) }()
	return "http://" + l.Addr().String(), done
}

// TestSlowClient opens a connection, sends half a header and stops: the
// server must hang up after its header timeout.
func TestSlowClient(t *testing.T) {
	s, err := New([]*Model{imageModel(&fake{}, "")}, Options{ReadHeaderTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	url, _ := serveLoopback(t, s)
	defer s.Shutdown(context.Background())
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	t0 := time.Now()
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept a slow client's connection for %v", time.Since(t0))
	}
}

// TestDrain holds a request in the model, shuts the server down, and
// requires: readiness and new requests refused while it drains, the held
// request answered 200, and Shutdown returning once it is.
func TestDrain(t *testing.T) {
	f := &fake{gate: make(chan struct{}), entered: make(chan struct{}, 4)}
	s, err := New([]*Model{imageModel(f, "")}, Options{MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	url, served := serveLoopback(t, s)
	held := predictAsync(t, url, 1)
	<-f.entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	for !s.draining.Load() {
		time.Sleep(time.Millisecond)
	}
	rec := &recorder{header: http.Header{}}
	s.Handler().ServeHTTP(rec, mustRequest(t, "GET", "/v2/health/ready"))
	if rec.code != 503 {
		t.Errorf("ready while draining: %d, want 503", rec.code)
	}
	rec = &recorder{header: http.Header{}}
	s.Handler().ServeHTTP(rec, mustRequest(t, "POST", "/v1/models/m:predict"))
	if rec.code != 503 && rec.code != 400 {
		t.Errorf("a new request while draining: %d, want 503", rec.code)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(f.gate)
	if c := <-held; c != 200 {
		t.Errorf("the request in flight got %d, want 200", c)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Get(url + "/v2/health/live"); err == nil {
		t.Error("the server still accepts connections after Shutdown")
	}
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	mu     sync.Mutex
	header http.Header
	code   int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(c int)   { r.code = c }
func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.code == 0 {
		r.code = 200
	}
	return r.body.Write(b)
}

func mustRequest(t *testing.T, method, path string) *http.Request {
	req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestMetrics(t *testing.T) {
	f := &fake{}
	_, ts := start(t, Options{MaxBatch: 1}, imageModel(f, ""))
	for range 3 {
		do(t, "POST", ts.URL+"/v1/models/m:predict", "image/png", "", pngOf(t, 4, 4, 1))
	}
	do(t, "POST", ts.URL+"/v1/models/m:predict", "image/png", "", []byte("junk"))
	do(t, "GET", ts.URL+"/v2/models/zz", "", "", nil)
	code, body := do(t, "GET", ts.URL+"/metrics", "", "", nil)
	wantStatus(t, "metrics", code, body, 200,
		`kiln_requests_total{model="m",route="v1_predict",code="200"} 3`,
		`kiln_requests_total{model="m",route="v1_predict",code="400"} 1`,
		`kiln_unrouted_requests_total{code="404"} 1`,
		`kiln_batch_size_bucket{model="m",le="1"} 3`,
		`kiln_batch_size_count{model="m"} 3`,
		`kiln_request_duration_seconds_count{model="m"} 4`,
		`kiln_inferred_examples_total{model="m"} 3`,
		`kiln_queue_depth{model="m"} 0`,
		"# TYPE kiln_request_duration_seconds histogram")
	// Buckets are cumulative: each line's count at least the previous.
	last := -1
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "kiln_request_duration_seconds_bucket") {
			continue
		}
		var n int
		fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &n)
		if n < last {
			t.Errorf("bucket %q below the one before (%d)", line, last)
		}
		last = n
	}
	if last != 4 {
		t.Errorf("+Inf bucket %d, want 4", last)
	}
}
