package main

// This file holds "kiln fed server" and "kiln fed client": the round
// engine (fed/server) and the client's trainer (fed/client) over gRPC
// (fed/fedgrpc). It leaves out "kiln fed simulate" (fedsim.go) and the
// transport's flags that both share (fednetflags.go).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/fed/fedgrpc"
	"github.com/kiln-ml/kiln/fed/server"
	"github.com/kiln-ml/kiln/source"
)

const fedServerHead = `Usage: kiln fed server --rounds R --min-clients K [--per-round N] [--strategy S] [--addr HOST:PORT] [flags]
       kiln fed server --resume RUN [--addr HOST:PORT] [transport flags]

Runs a federated training: waits for K clients ("kiln fed client") to
connect over gRPC, and every round sends the global model to N of them
(all connected when N is 0), which train it on their own data for
--local-epochs and send back their parameters; the strategy combines them
and the new global model is scored on the server's test set (--data; the
embedded Fashion-MNIST test images when empty). A round closes when every
sampled client answered, or after --round-timeout with at least K
updates; a client that fails or disconnects is dropped from the round.
The run directory (--out/--name) is kiln train's: metrics per round,
TensorBoard, plots, last.safetensors (kiln eval and kiln predict read it)
and the state --resume continues from after a kill or Ctrl-C.

The address is printed once the server listens ("--addr 127.0.0.1:0"
picks a free port). Without --tls-cert and --tls-key the traffic is
plaintext; without --token (or KILN_FED_TOKEN) anyone who reaches the
address can join: use both beyond a trusted network.
`

const fedClientHead = `Usage: kiln fed client --server HOST:PORT [--data DIR] [--name NAME] [flags]

Joins a federated training ("kiln fed server") as NAME (default: this
host's name) and trains the server's model on DIR's training images for
as many rounds as the server asks; the data never leave this machine,
only the model's parameters do. --partition I/N keeps only the I-th of N
parts of the training data (IID, or by label with --dirichlet ALPHA),
drawn alike by every client with the same --partition-seed: N clients
over one dataset, for trials. The client reconnects when the connection
drops, and exits when the server says the run is over.

Trust the server's certificate with --ca FILE (or --tls for the system's
authorities); without either the connection is plaintext. The token is
--token or KILN_FED_TOKEN.
`

// fedServerCmd parses kiln fed server's flags, listens, and runs the
// rounds.
func fedServerCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fed server")
	cfg := server.DefaultConfig()
	cfg.MaxGradNorm, cfg.NoiseMultiplier = 1, 1 // used with --dp only
	settings := addRoundFlags(fs, &cfg)
	addr := fs.String("addr", "127.0.0.1:9092", "`HOST:PORT` to listen on (\":9092\" for every interface; port 0 picks a free one)")
	resume := fs.String("resume", "", "continue the federated run in this `directory` after its last saved round, with its own settings")
	tf := addTransportFlags(fs)
	certFile := fs.String("tls-cert", "", "the server's TLS certificate `file` (PEM); with --tls-key")
	keyFile := fs.String("tls-key", "", "the server's TLS private key `file` (PEM)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, fedServerHead, stdout)
			return nil
		}
		return usageError{err}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}
	if (*certFile == "") != (*keyFile == "") {
		return usageError{errors.New("--tls-cert and --tls-key: give both, or neither for plaintext")}
	}
	o, err := tf.options()
	if err != nil {
		return usageError{err}
	}
	if *certFile != "" {
		if o.TLS, err = fedgrpc.ServerTLS(*certFile, *keyFile); err != nil {
			return usageError{fmt.Errorf("--tls-cert, --tls-key: %w", err)}
		}
	}
	if *resume != "" {
		if kept := givenSettings(fs, settings); len(kept) > 0 {
			return usageError{fmt.Errorf("%s: a resumed run keeps its own settings (%s)", strings.Join(kept, ", "), filepath.Join(*resume, server.ConfigFile))}
		}
		workers := cfg.Data.Workers
		if cfg, err = server.ReadConfig(*resume); err != nil {
			return usageError{fmt.Errorf("--resume: %w", err)}
		}
		cfg.Data.Workers = workers // how the test set is decoded, not a setting of the run
	} else {
		if err := finishRoundFlags(&cfg); err != nil {
			return usageError{err}
		}
		if err := cfg.Validate(); err != nil {
			return usageError{err}
		}
	}
	if o.Token == "" {
		fmt.Fprintln(stderr, "kiln fed server: warning: no --token (or KILN_FED_TOKEN): any client that reaches the address can join")
	}
	if o.TLS == nil && !loopback(*addr) {
		fmt.Fprintln(stderr, "kiln fed server: warning: no --tls-cert: parameters and token cross the network in plaintext")
	}

	ds, err := source.LoadDatasets(cfg.Data, stderr)
	if err != nil {
		return fmt.Errorf("the server's test set (--data): %w", err)
	}
	if ds.Test == nil || ds.Test.Len() == 0 {
		return fmt.Errorf("the server's test set: %s has no test images to score the global model on", ds.Source)
	}
	mgr := fed.NewManager()
	env := server.Env{Clients: mgr, Test: ds.Test, Source: ds.Source, Workers: cfg.Data.Workers, Log: stdout, Version: versionString()}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	var srv *server.Server
	if *resume != "" {
		srv, err = server.Resume(*resume, env)
	} else {
		srv, err = server.New(cfg, env)
	}
	if err != nil {
		lis.Close()
		return err
	}
	o.Logf = transportLog(stdout)
	g := fedgrpc.NewServer(mgr, o)
	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()
	fmt.Fprintf(stdout, "kiln fed server: listening on %s; waiting for %d clients\n", lis.Addr(), cfg.MinClients)

	sum, err := srv.Run(ctx)
	if err != nil {
		g.Stop() // no goodbye: the clients wait for a resumed server
		<-served
		return err
	}
	g.Finish("the run finished: " + sum.Dir)
	if err := <-served; err != nil {
		return err
	}
	last := sum.Rounds[len(sum.Rounds)-1]
	fmt.Fprintf(stdout, "kiln fed server: %d rounds done; the global model's test accuracy is %.2f%%; run directory %s\n",
		len(sum.Rounds), 100*last.TestAcc, sum.Dir)
	return nil
}

// transportLog prints the transport's lines (clients joining and leaving,
// instructions) without its package prefix.
func transportLog(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(w, strings.TrimPrefix(format, "fed/fedgrpc: ")+"\n", args...)
	}
}

// loopback reports whether addr's host is a loopback address.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fedClientCmd parses kiln fed client's flags, loads its data and answers
// the server until the run is over.
func fedClientCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fed client")
	addr := fs.String("server", "", "the server's `HOST:PORT`")
	host, _ := os.Hostname()
	name := fs.String("name", host, "this client's `name`, unique among the server's clients; it also seeds the client's shuffling")
	cd := addClientDataFlags(fs)
	tf := addTransportFlags(fs)
	caFile := fs.String("ca", "", "trust the server certificates this CA `file` (PEM) signed; implies TLS")
	useTLS := fs.Bool("tls", false, "use TLS, trusting the system's certificate authorities")
	skipVerify := fs.Bool("insecure-skip-verify", false, "use TLS but accept any server certificate (tests only: open to a man in the middle)")
	giveUp := fs.Duration("give-up", 2*time.Minute, "stop once the server has been unreachable this long")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, fedClientHead, stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	case *addr == "":
		return usageError{errors.New("--server: give the server's HOST:PORT")}
	case *giveUp <= 0:
		return usageError{fmt.Errorf("--give-up %v: want a positive duration", *giveUp)}
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usageError{fmt.Errorf("--server %q: want HOST:PORT: %w", *addr, err)}
	}
	o, err := tf.options()
	if err != nil {
		return usageError{err}
	}
	if *caFile != "" || *useTLS || *skipVerify {
		if o.TLS, err = fedgrpc.ClientTLS(*caFile, *skipVerify); err != nil {
			return usageError{fmt.Errorf("--ca: %w", err)}
		}
	} else if !loopback(*addr) {
		fmt.Fprintln(stderr, "kiln fed client: warning: no --ca or --tls: parameters and token cross the network in plaintext")
	}
	o.GiveUpAfter = *giveUp
	o.Logf = transportLog(stdout)
	h, err := cd.handler(*name, stdout, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "kiln fed client %s: connecting to %s\n", *name, *addr)
	if err := fedgrpc.RunClient(ctx, *addr, *name, h, o); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "kiln fed client %s: the server finished the run\n", *name)
	return nil
}
