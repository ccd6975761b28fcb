package main

// This file holds "kiln serve": flags and wiring into package serve. It
// leaves out the endpoints, batching and limits (serve) and model loading
// (predict).

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/serve"
)

const serveHead = `Usage: kiln serve RUN... [--addr 127.0.0.1:8080] [flags]

Serves the classifiers of one or more run directories over HTTP until
Ctrl-C or SIGTERM, which drain: requests in flight finish, new ones are
refused. Each model is named after its run directory's base name, or
NAME=RUN names it.

  GET  /v2/health/live, /v2/health/ready        (no token needed)
  GET  /v2/models/NAME                          inputs, outputs, shapes, datatypes
  POST /v2/models/NAME/infer                    Open Inference Protocol v2 JSON tensors
  POST /v1/models/NAME:predict[?top_k=K]        image bytes, multipart files, text or JSON
  POST /v1/models/NAME/feedback?label=CLASS     store a corrected label in RUN/feedback/
  GET  /metrics                                 Prometheus text format

Requests are batched: up to --max-batch examples per forward pass, of the
requests queued while the model was busy, the first waiting at most
--max-delay for more (default 0: none). A full --queue answers 429. It listens
on loopback unless --addr says otherwise; with --token (or --token-file)
every endpoint but the health checks wants "Authorization: Bearer TOKEN".
`

// serveFlags are kiln serve's settings.
type serveFlags struct {
	addr, which, token, tokenFile, cert, key string
	opt                                      serve.Options
	drain                                    time.Duration
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("serve")
	var f serveFlags
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (port 0: any free port)")
	fs.StringVar(&f.which, "checkpoint", "best", "weights to serve: best, last, int8 (kiln quantize), or a safetensors `file`")
	fs.IntVar(&f.opt.MaxBatch, "max-batch", 32, "most examples per forward pass (1: no batching)")
	fs.DurationVar(&f.opt.MaxDelay, "max-delay", 0, "longest a request waits for its batch to fill (0: a batch takes what is queued and runs)")
	fs.IntVar(&f.opt.Queue, "queue", 256, "requests a model may hold waiting before answering 429")
	fs.DurationVar(&f.opt.Timeout, "timeout", 30*time.Second, "a request's whole time in the server (504 past it)")
	fs.Int64Var(&f.opt.MaxBody, "max-body", 16<<20, "largest request body in `bytes` (413 past it)")
	fs.IntVar(&f.opt.MaxInputs, "max-inputs", 256, "most examples in one request")
	fs.StringVar(&f.token, "token", "", "require this bearer `token` for everything but health checks")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the token from this `file` (keeps it out of the process list)")
	fs.StringVar(&f.cert, "tls-cert", "", "serve HTTPS with this certificate `file` (PEM)")
	fs.StringVar(&f.key, "tls-key", "", "the certificate's private key `file` (PEM)")
	fs.DurationVar(&f.drain, "drain", 30*time.Second, "on SIGTERM, how long to wait for requests in flight")
	dev := addDeviceFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, serveHead, stdout)
			return nil
		}
		return usageError{err}
	}
	if err := f.check(pos); err != nil {
		return err
	}
	f.opt.Version = versionString()
	if f.opt.Token, err = f.readToken(); err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if f.cert != "" {
		pair, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", f.cert, f.key, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	b, err := dev.open()
	if err != nil {
		return err
	}
	defer closeDevice(b, &err)
	var devMu sync.Mutex // the models' batchers share the device
	var models []*serve.Model
	for _, p := range pos {
		name, dir := runName(p)
		t, err := predict.LoadTrained(dir, f.which)
		if err != nil {
			return err
		}
		if b != nil {
			if err := t.UseDevice(b); err != nil {
				return fmt.Errorf("--device %s: %w", dev.name, err)
			}
			defer t.Close() // before the backend closes
		}
		m, err := serve.FromTrained(name, t)
		if err != nil {
			return err
		}
		if b != nil {
			logits := m.Logits
			m.Logits = func(x []float32) ([]float32, error) {
				devMu.Lock()
				defer devMu.Unlock()
				return logits(x)
			}
		}
		models = append(models, m)
		fmt.Fprintf(stdout, "model %s: %s (%s, %d classes, input %v) from %s\n", name, dir, t.Info.Model, len(t.Info.Classes), t.Info.InputShape, t.Checkpoint)
	}
	s, err := serve.New(models, f.opt)
	if err != nil {
		return usageError{err}
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("--addr %s: %w", f.addr, err)
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	if host, _, _ := net.SplitHostPort(f.addr); !isLoopback(host) && (f.opt.Token == "" || tlsConfig == nil) {
		fmt.Fprintf(stderr, "kiln serve: warning: listening on %s beyond loopback without both --token and TLS\n", f.addr)
	}
	fmt.Fprintf(stdout, "listening on %s://%s\n", scheme, l.Addr())
	done := make(chan error, 1)
	go func() { done <- s.Serve(l, tlsConfig) }()
	select {
	case err := <-done:
		s.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintf(stdout, "draining (up to %v)\n", f.drain)
	sctx, cancel := context.WithTimeout(context.Background(), f.drain)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: draining: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintln(stdout, "stopped")
	return nil
}

// check reports bad arguments as usage errors.
func (f *serveFlags) check(pos []string) error {
	switch {
	case len(pos) == 0:
		return usageError{errors.New("missing the run directories to serve (kiln serve RUN...)")}
	case (f.cert == "") != (f.key == ""):
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	case f.token != "" && f.tokenFile != "":
		return usageError{errors.New("--token and --token-file: give one")}
	case f.opt.MaxBatch < 1 || f.opt.Queue < 1 || f.opt.MaxInputs < 1 || f.opt.MaxBody < 1:
		return usageError{fmt.Errorf("--max-batch %d, --queue %d, --max-inputs %d, --max-body %d: want at least 1", f.opt.MaxBatch, f.opt.Queue, f.opt.MaxInputs, f.opt.MaxBody)}
	case f.opt.MaxDelay < 0 || f.opt.Timeout <= 0 || f.drain < 0:
		return usageError{fmt.Errorf("--max-delay %v, --timeout %v, --drain %v: want positive durations", f.opt.MaxDelay, f.opt.Timeout, f.drain)}
	}
	for _, p := range pos {
		if _, dir := runName(p); strings.Contains(dir, "://") {
			return usageError{fmt.Errorf("%s: kiln serves run directories on this machine, never models from URLs", dir)}
		}
	}
	return nil
}

// readToken returns the token from --token or --token-file.
func (f *serveFlags) readToken() (string, error) {
	if f.tokenFile == "" {
		return f.token, nil
	}
	b, err := os.ReadFile(f.tokenFile)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--token-file %s is empty", f.tokenFile)
	}
	return tok, nil
}

// runName splits NAME=RUN; a bare RUN is named after its base name.
func runName(arg string) (name, dir string) {
	if n, d, ok := strings.Cut(arg, "="); ok && !strings.ContainsAny(n, `/\`) {
		return n, d
	}
	return filepath.Base(filepath.Clean(arg)), arg
}

// isLoopback reports whether host names the loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
