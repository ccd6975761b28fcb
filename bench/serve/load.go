package main

// This file holds the load generator: concurrent clients sending one body
// each in turn, bounded in count and time, and the latency summary.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stats is one load level's outcome.
type stats struct {
	Concurrency int
	Sent        int
	Codes       map[int]int
	Seconds     float64
	ReqPerS     float64 // answered 200 per second
	P50, P99    time.Duration
}

func (s stats) String() string {
	return fmt.Sprintf("c=%-3d %6d requests in %5.2fs  %8.1f req/s  p50 %8.2fms  p99 %8.2fms  statuses %v",
		s.Concurrency, s.Sent, s.Seconds, s.ReqPerS, ms(s.P50), ms(s.P99), s.Codes)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load sends POSTs of bodies (taken in turn) to url from conc clients
// until n are sent or d has passed, and summarises them.
func load(ctx context.Context, client *http.Client, url string, bodies [][]byte, conc, n int, d time.Duration) (stats, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		next  atomic.Int64
		mu    sync.Mutex
		lat   []time.Duration
		codes = map[int]int{}
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						first = cmpOr(first, err)
						mu.Unlock()
					}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				mu.Lock()
				codes[resp.StatusCode]++
				if resp.StatusCode == http.StatusOK {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	s := stats{Concurrency: conc, Codes: codes, Seconds: el.Seconds()}
	for _, c := range codes {
		s.Sent += c
	}
	s.ReqPerS = float64(len(lat)) / el.Seconds()
	s.P50, s.P99 = quantile(lat, 0.5), quantile(lat, 0.99)
	return s, first
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// quantile returns the q-quantile of ds (nearest rank), 0 for none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
