package serve

// This file holds /metrics in Prometheus' text exposition format (0.0.4):
// requests by model, route and status, request latency, batch sizes and
// forward-pass time as histograms, and the queue depth. It leaves out a
// client library: the format is a few lines of text.

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds, in seconds, of the latency
// histograms.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// histogram counts observations into cumulative buckets.
type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v
	h.counts[i]++
	h.sum += v
	h.n++
}

// write prints the histogram's series with labels (already formatted,
// without braces, may be empty).
func (h *histogram) write(w io.Writer, name, labels string) {
	sep := ""
	if labels != "" {
		sep = ","
	}
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{%s%sle=\"%s\"} %d\n", name, labels, sep, strconv.FormatFloat(b, 'g', -1, 64), cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(w, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, cum)
	fmt.Fprintf(w, "%s_sum{%s} %s\n", name, labels, strconv.FormatFloat(h.sum, 'g', -1, 64))
	fmt.Fprintf(w, "%s_count{%s} %d\n", name, labels, h.n)
}

// modelMetrics are one model's series.
type modelMetrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // route, status code
	latency  *histogram
	batches  *histogram // examples per forward pass
	forward  *histogram // seconds per forward pass
	examples uint64
}

func newModelMetrics() *modelMetrics {
	sizes := []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}
	return &modelMetrics{requests: map[[2]string]uint64{}, latency: newHistogram(latencyBuckets),
		batches: newHistogram(sizes), forward: newHistogram(latencyBuckets)}
}

// request records one answered request.
func (m *modelMetrics) request(route string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{route, strconv.Itoa(code)}]++
	m.latency.observe(d.Seconds())
}

// batch records one forward pass of n examples.
func (m *modelMetrics) batch(n int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches.observe(float64(n))
	m.forward.observe(d.Seconds())
	m.examples += uint64(n)
}

// writeMetrics prints every model's series.
func (s *Server) writeMetrics(w io.Writer) {
	names := make([]string, 0, len(s.models))
	for n := range s.models {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "# HELP kiln_requests_total Inference requests answered, by model, route and HTTP status.")
	fmt.Fprintln(w, "# TYPE kiln_requests_total counter")
	for _, n := range names {
		met := s.models[n].met
		met.mu.Lock()
		keys := make([][2]string, 0, len(met.requests))
		for k := range met.requests {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
		for _, k := range keys {
			fmt.Fprintf(w, "kiln_requests_total{model=%q,route=%q,code=%q} %d\n", n, k[0], k[1], met.requests[k])
		}
		met.mu.Unlock()
	}
	fmt.Fprintf(w, "# HELP kiln_unrouted_requests_total Requests that named no served model (404), bad tokens (401) and the like.\n# TYPE kiln_unrouted_requests_total counter\n")
	s.mu.Lock()
	codes := make([]int, 0, len(s.unrouted))
	for c := range s.unrouted {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		fmt.Fprintf(w, "kiln_unrouted_requests_total{code=\"%d\"} %d\n", c, s.unrouted[c])
	}
	s.mu.Unlock()
	series := []struct {
		name, help string
		h          func(*modelMetrics) *histogram
	}{
		{"kiln_request_duration_seconds", "Time from a request's arrival to its answer.", func(m *modelMetrics) *histogram { return m.latency }},
		{"kiln_batch_size", "Examples in each forward pass.", func(m *modelMetrics) *histogram { return m.batches }},
		{"kiln_forward_duration_seconds", "Time of each forward pass.", func(m *modelMetrics) *histogram { return m.forward }},
	}
	for _, sr := range series {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", sr.name, sr.help, sr.name)
		for _, n := range names {
			met := s.models[n].met
			met.mu.Lock()
			sr.h(met).write(w, sr.name, fmt.Sprintf("model=%q", n))
			met.mu.Unlock()
		}
	}
	fmt.Fprintln(w, "# HELP kiln_inferred_examples_total Examples run through each model.")
	fmt.Fprintln(w, "# TYPE kiln_inferred_examples_total counter")
	for _, n := range names {
		met := s.models[n].met
		met.mu.Lock()
		fmt.Fprintf(w, "kiln_inferred_examples_total{model=%q} %d\n", n, met.examples)
		met.mu.Unlock()
	}
	fmt.Fprintln(w, "# HELP kiln_queue_depth Requests waiting for a batch.")
	fmt.Fprintln(w, "# TYPE kiln_queue_depth gauge")
	for _, n := range names {
		fmt.Fprintf(w, "kiln_queue_depth{model=%q} %d\n", n, s.models[n].b.depth())
	}
	fmt.Fprintln(w, "# HELP kiln_inflight_requests Requests being answered.")
	fmt.Fprintln(w, "# TYPE kiln_inflight_requests gauge")
	fmt.Fprintf(w, "kiln_inflight_requests %d\n", s.inflight.Load())
}
