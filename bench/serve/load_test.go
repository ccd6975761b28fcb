package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadCounts requires the generator to send exactly n requests, count
// their statuses, and keep latencies of the 200s only.
func TestLoadCounts(t *testing.T) {
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		time.Sleep(time.Millisecond)
	}))
	defer ts.Close()
	s, err := load(context.Background(), ts.Client(), ts.URL, [][]byte{[]byte("{}")}, 8, 100, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sent != 100 || s.Codes[200] != 75 || s.Codes[429] != 25 || s.P50 < time.Millisecond || s.P99 < s.P50 {
		t.Errorf("%v", s)
	}
}

func TestQuantile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	if q := quantile(ds, 0.5); q != 5 {
		t.Errorf("p50 %v, want 5", q)
	}
	if q := quantile(ds, 0.99); q != 10 {
		t.Errorf("p99 %v, want 10", q)
	}
	if quantile(nil, 0.5) != 0 {
		t.Error("quantile of nothing")
	}
}

func TestLoopbackOnly(t *testing.T) {
	for url, ok := range map[string]bool{"http://127.0.0.1:9/x": true, "http://[::1]:9/": true, "http://localhost:1/": true,
		"http://10.0.0.1/": false, "http://example.com/": false} {
		if err := loopbackOnly(url); (err == nil) != ok {
			t.Errorf("%s: %v", url, err)
		}
	}
}
