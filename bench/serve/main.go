package main

// This file holds the command: flags, the model (a run, or one trained
// here on the embedded Fashion-MNIST subset), the table of load levels and
// the overload row.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/data/embedded"
	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/serve"
	"github.com/kiln-ml/kiln/task"
)

func main() {
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/serve:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	runDir := flag.String("run", "", "run directory to serve (default: train seed-cnn for one epoch on the embedded Fashion-MNIST subset)")
	which := flag.String("checkpoint", "best", "weights: best, last or int8")
	url := flag.String("url", "", "a loopback v2 infer URL to load instead of an in-process kiln server (e.g. ort_server.js)")
	n := flag.Int("requests", 2000, "requests per row at most")
	dur := flag.Duration("duration", 10*time.Second, "time per row at most")
	levels := flag.String("concurrency", "1,8,64", "comma-separated client counts")
	maxBatch := flag.Int("max-batch", 32, "max batch of the batching rows")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this `file`")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	conc, err := parseLevels(*levels)
	if err != nil {
		return err
	}
	bodies, err := inferBodies(64)
	if err != nil {
		return err
	}
	ctx := context.Background()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	fmt.Printf("GOMAXPROCS %d, %s/%s\n", runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	if *url != "" {
		if err := loopbackOnly(*url); err != nil {
			return err
		}
		fmt.Printf("target %s\n", *url)
		for _, c := range conc {
			s, err := load(ctx, client, *url, bodies, c, *n, *dur)
			if err != nil {
				return err
			}
			fmt.Println(s)
		}
		return nil
	}
	if *runDir == "" {
		dir, err := trainOne(ctx)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*runDir = dir + "/fm"
	}
	t, err := predict.LoadTrained(*runDir, *which)
	if err != nil {
		return err
	}
	fmt.Printf("model %s (%s) from %s\n", t.Info.Model, *runDir, t.Checkpoint)
	for _, row := range []struct {
		batch int
		delay time.Duration
	}{{1, 0}, {*maxBatch, 0}, {*maxBatch, 2 * time.Millisecond}} {
		fmt.Printf("max batch %d, max delay %v\n", row.batch, row.delay)
		for _, c := range conc {
			s, err := serveAndLoad(ctx, client, t, serve.Options{MaxBatch: row.batch, MaxDelay: row.delay, Queue: 1024}, bodies, c, *n, *dur)
			if err != nil {
				return err
			}
			fmt.Println(s)
		}
	}
	fmt.Println("overload: queue 4, max batch 1, 256 clients")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	peak := make(chan uint64)
	stop := make(chan struct{})
	go func() {
		var hi uint64
		for {
			select {
			case <-stop:
				peak <- hi
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				hi = max(hi, ms.HeapInuse)
			}
		}
	}()
	s, err := serveAndLoad(ctx, client, t, serve.Options{MaxBatch: 1, Queue: 4}, bodies, 256, *n, *dur)
	close(stop)
	if err != nil {
		return err
	}
	fmt.Printf("%s\nheap in use %.1f MiB before, peak %.1f MiB\n", s, float64(before)/(1<<20), float64(<-peak)/(1<<20))
	return nil
}

// serveAndLoad serves t on a loopback port with opt, loads it, and shuts
// it down.
func serveAndLoad(ctx context.Context, client *http.Client, t *predict.Trained, opt serve.Options, bodies [][]byte, conc, n int, d time.Duration) (stats, error) {
	m, err := serve.FromTrained("fm", t)
	if err != nil {
		return stats{}, err
	}
	s, err := serve.New([]*serve.Model{m}, opt)
	if err != nil {
		return stats{}, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return stats{}, err
	}
	go s.Serve(l, nil)
	defer s.Shutdown(ctx)
	return load(ctx, client, "http://"+l.Addr().String()+"/v2/models/fm/infer", bodies, conc, n, d)
}

// inferBodies returns v2 inference bodies of the first k embedded
// Fashion-MNIST test images, one image each.
func inferBodies(k int) ([][]byte, error) {
	_, test, err := embedded.FashionMNIST()
	if err != nil {
		return nil, err
	}
	shape := test.Shape()
	size := 1
	for _, d := range shape {
		size *= d
	}
	var out [][]byte
	for i := range min(k, test.Len()) {
		x := make([]float32, size)
		if _, err := test.Get(i, x, nil); err != nil {
			return nil, err
		}
		b, err := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "input", "datatype": "FP32",
			"shape": append([]int{1}, shape...), "data": x}}})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// trainOne trains seed-cnn for one epoch on the embedded subset into a
// temporary folder and returns it (the run is its fm/).
func trainOne(ctx context.Context) (string, error) {
	dir, err := os.MkdirTemp("", "kiln-bench-serve-")
	if err != nil {
		return "", err
	}
	cfg := run.DefaultConfig()
	cfg.Epochs, cfg.Out, cfg.Name = 1, dir, "fm"
	fmt.Println("training seed-cnn for one epoch on the embedded Fashion-MNIST subset")
	if _, err := task.Run(ctx, cfg, task.Options{}); err != nil {
		return "", err
	}
	return dir, nil
}

// parseLevels reads "1,8,64".
func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 || c > 4096 {
			return nil, fmt.Errorf("--concurrency %q: want client counts from 1 to 4096", s)
		}
		out = append(out, c)
	}
	return out, nil
}

// loopbackOnly refuses targets beyond this machine.
func loopbackOnly(raw string) error {
	u, err := neturl.Parse(raw)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("--url: the load test only targets loopback (127.0.0.1, ::1, localhost)")
	}
	return nil
}
