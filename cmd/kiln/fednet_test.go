package main

// Tests of kiln fed server and client as separate processes (this test
// binary re-executed as kiln, TestKilnProcess) on loopback, over the
// embedded Fashion-MNIST subset cut into one part per client.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/fed/fedgrpc/fedgrpctest"
)

// syncBuffer is an output buffer a test reads while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// kilnProc is kiln running as a child process, its stdout and stderr
// together in out.
type kilnProc struct {
	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	code int
}

func startKiln(t *testing.T, args ...string) *kilnProc {
	t.Helper()
	spec, _ := json.Marshal(args)
	p := &kilnProc{cmd: exec.Command(os.Args[0], "-test.run=^TestKilnProcess$"), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), envArgs+"="+string(spec))
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

// await returns the first match of re in p's output, failing the test
// after timeout or if p exits first.
func (p *kilnProc) await(t *testing.T, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(timeout); ; time.Sleep(5 * time.Millisecond) {
		if m := rx.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			if m := rx.FindStringSubmatch(p.out.String()); m != nil {
				return m
			}
			t.Fatalf("kiln %s exited (status %d) before printing %q:\n%s", p.cmd.Env[len(p.cmd.Env)-1], p.code, re, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %v:\n%s", re, timeout, p.out.String())
		}
	}
}

// exit waits for p to end and returns its status.
func (p *kilnProc) exit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		t.Fatalf("still running after %v:\n%s", timeout, p.out.String())
		return -1
	}
}

// fedServer starts kiln fed server on a free loopback port and returns it
// with its address.
func fedServer(t *testing.T, args ...string) (*kilnProc, string) {
	t.Helper()
	p := startKiln(t, append([]string{"fed", "server", "--addr", "127.0.0.1:0", "--workers", "1"}, args...)...)
	m := p.await(t, `listening on (127\.0\.0\.1:\d+)`, time.Minute)
	return p, m[1]
}

// fedClient starts the i-th of n clients of the server at addr, named ci.
func fedClient(t *testing.T, addr string, i, n int, args ...string) *kilnProc {
	t.Helper()
	return startKiln(t, append([]string{"fed", "client", "--server", addr, "--name", "c" + strconv.Itoa(i),
		"--partition", strconv.Itoa(i) + "/" + strconv.Itoa(n), "--workers", "1"}, args...)...)
}

// roundRows reads metrics.csv: one map per round, by column.
func roundRows(t *testing.T, dir string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 1 {
		t.Fatalf("metrics.csv: %v", err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for j, col := range recs[0] {
			m[col] = r[j]
		}
		rows = append(rows, m)
	}
	return rows
}

// TestFedClientKilledMidRound: a server and three client processes; one
// client is SIGKILLed while it trains, and the run still finishes every
// round with the other two, leaving a model kiln eval reads.
func TestFedClientKilledMidRound(t *testing.T) {
	out := t.TempDir()
	srv, addr := fedServer(t, "--rounds", "4", "--min-clients", "2", "--local-epochs", "3", "--batch-size", "16",
		"--token", "tok", "--out", out, "--name", "fed")
	var clients []*kilnProc
	for i := 1; i <= 3; i++ {
		clients = append(clients, fedClient(t, addr, i, 3, "--token", "tok"))
	}
	// From round 2 on, c3 has surely been sampled with both others
	// connected (round 1 may start before one of them joins).
	m := clients[2].await(t, `client "c3": round ([234]): fit`, time.Minute)
	clients[2].cmd.Process.Signal(syscall.SIGKILL)
	killed, _ := strconv.Atoi(m[1])
	if code := srv.exit(t, 2*time.Minute); code != 0 {
		t.Fatalf("server: status %d\n%s", code, srv.out.String())
	}
	for _, c := range clients[:2] {
		if code := c.exit(t, 30*time.Second); code != 0 || !strings.Contains(c.out.String(), "the server finished the run") {
			t.Fatalf("client: status %d\n%s", code, c.out.String())
		}
	}
	dir := filepath.Join(out, "fed")
	rows := roundRows(t, dir)
	if len(rows) != 4 {
		t.Fatalf("%d rounds in metrics.csv, want 4:\n%s", len(rows), srv.out.String())
	}
	// The round closes with c1's and c2's updates; it counts c3 as dropped
	// (and, if c3 was sampled with only one other, that first attempt's
	// update too: the round was sampled again).
	r := rows[killed-1]
	if dropped, _ := strconv.Atoi(r["dropped"]); dropped < 1 || r["updates"] != "2" || !strings.Contains(srv.out.String(), "round "+m[1]+": client c3 dropped: fed: client disconnected") {
		t.Fatalf("round %d, when c3 was killed: %v; want 2 updates and c3 dropped\n%s", killed, r, srv.out.String())
	}
	for _, r := range rows[killed:] {
		if r["updates"] != "2" || r["dropped"] != "0" {
			t.Fatalf("a round after the kill: %v", r)
		}
	}
	acc, _ := strconv.ParseFloat(rows[3]["test_acc"], 64)
	if acc < 0.5 {
		t.Errorf("test accuracy after 4 rounds: %v, want above 0.5", acc)
	}
	t.Logf("c3 killed in round %d; test accuracy after 4 rounds %.1f%%", killed, 100*acc)
	code, stdout, stderr := kiln(t, context.Background(), "eval", dir)
	if code != 0 || !strings.Contains(stdout, "Accuracy: ") {
		t.Fatalf("kiln eval: status %d\n%s%s", code, stdout, stderr)
	}
}

// TestFedServerResume: the server is SIGKILLed after a round; its clients
// wait, and rejoin the server resumed on the same address, which finishes
// the rounds left.
func TestFedServerResume(t *testing.T) {
	out := t.TempDir()
	srv, addr := fedServer(t, "--rounds", "3", "--min-clients", "2", "--out", out, "--name", "fed")
	c1, c2 := fedClient(t, addr, 1, 2), fedClient(t, addr, 2, 2)
	srv.await(t, `round 1/3: `, time.Minute)
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.exit(t, 10*time.Second)
	dir := filepath.Join(out, "fed")
	before := len(roundRows(t, dir))

	// Settings stay the run's own.
	code, _, stderr := kiln(t, context.Background(), "fed", "server", "--resume", dir, "--lr", "0.1", "--strategy", "krum")
	if code != 2 || !strings.Contains(stderr, "--lr, --strategy: a resumed run keeps its own settings") {
		t.Fatalf("--resume with --lr: status %d, %s", code, stderr)
	}
	srv2 := startKiln(t, "fed", "server", "--resume", dir, "--addr", addr, "--workers", "1")
	if code := srv2.exit(t, 2*time.Minute); code != 0 {
		t.Fatalf("resumed server: status %d\n%s", code, srv2.out.String())
	}
	for _, c := range []*kilnProc{c1, c2} {
		if code := c.exit(t, 30*time.Second); code != 0 {
			t.Fatalf("client: status %d\n%s", code, c.out.String())
		}
	}
	if rows := roundRows(t, dir); len(rows) != 3 {
		t.Fatalf("%d rounds after the resume, want 3", len(rows))
	}
	if strings.Contains(srv2.out.String(), "round 1/3:") || !strings.Contains(srv2.out.String(), "round 3/3:") {
		t.Fatalf("the resumed server (after %d saved rounds):\n%s", before, srv2.out.String())
	}
	if !strings.Contains(c1.out.String(), `client "c1" joined`) || strings.Count(c1.out.String(), `client "c1" joined`) != 2 {
		t.Errorf("c1 should have joined twice:\n%s", c1.out.String())
	}
}

// TestFedTLSAndToken: over TLS with a CA made here, a client with the
// wrong token is refused with a message naming it, one that does not
// trust the CA and a plaintext one do not get in, and a good one trains.
func TestFedTLSAndToken(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key, err := fedgrpctest.WriteCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KILN_FED_TOKEN", "")
	srv, addr := fedServer(t, "--rounds", "1", "--min-clients", "1", "--tls-cert", cert, "--tls-key", key, "--token", "right",
		"--out", dir, "--name", "fed")
	client := []string{"fed", "client", "--server", addr, "--name", "c", "--partition", "1/8", "--workers", "1", "--give-up", "2s"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ca", ca, "--token", "wrong"}, "the client's token is not the server's"},
		{[]string{"--ca", ca}, "the client sent none"},
		{[]string{"--tls", "--token", "right"}, "certificate signed by unknown authority"},
		{[]string{"--token", "right"}, "no connection to " + addr},
	} {
		code, _, stderr := kiln(t, context.Background(), append(client, tc.args...)...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("client %v: status %d, %q; want status 1 and %q", tc.args, code, stderr, tc.want)
		}
	}
	t.Setenv("KILN_FED_TOKEN", "right")
	code, stdout, stderr := kiln(t, context.Background(), append(client, "--ca", ca)...)
	if code != 0 || !strings.Contains(stdout, `client "c": round 1: fit`) {
		t.Fatalf("a client with the CA and the token from KILN_FED_TOKEN: status %d\n%s%s", code, stdout, stderr)
	}
	if code := srv.exit(t, time.Minute); code != 0 {
		t.Fatalf("server: status %d\n%s", code, srv.out.String())
	}
}

func TestFedUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"fed", "client"}, "--server: give the server's HOST:PORT"},
		{[]string{"fed", "client", "--server", "nohost"}, `--server "nohost": want HOST:PORT`},
		{[]string{"fed", "client", "--server", "h:1", "--partition", "3/2"}, `--partition "3/2": want I/N`},
		{[]string{"fed", "client", "--server", "h:1", "--partition", "1/2", "--dirichlet", "-1"}, "--dirichlet -1"},
		{[]string{"fed", "client", "--server", "h:1", "--give-up", "0s"}, "--give-up 0s"},
		{[]string{"fed", "client", "--server", "h:1", "--ca", filepath.Join(dir, "none.pem")}, "--ca: "},
		{[]string{"fed", "client", "--server", "h:1", "stray"}, `unexpected argument "stray"`},
		{[]string{"fed", "server", "--tls-cert", "a.pem"}, "--tls-cert and --tls-key: give both"},
		{[]string{"fed", "server", "--rounds", "0"}, "--rounds 0"},
		{[]string{"fed", "server", "--strategy", "fedsgd"}, "--strategy"},
		{[]string{"fed", "server", "--secagg", "--strategy", "krum"}, "needs each client's update"},
		{[]string{"fed", "server", "--max-message-mb", "0"}, "--max-message-mb 0"},
		{[]string{"fed", "server", "--resume", filepath.Join(dir, "nope")}, "--resume: "},
	} {
		code, _, stderr := kiln(t, context.Background(), tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("kiln %s: status %d, stderr %q; want status 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	for _, sub := range []string{"server", "client"} {
		code, stdout, _ := kiln(t, context.Background(), "fed", sub, "-h")
		if code != 0 || !strings.HasPrefix(stdout, "Usage: kiln fed "+sub) || !strings.Contains(stdout, "-token") {
			t.Errorf("kiln fed %s -h: status %d\n%s", sub, code, stdout)
		}
	}
}

// TestFedSecAggOverGRPC: with --secagg, SecAgg+'s stages travel as
// instructions to client processes, and the round aggregates their sum.
func TestFedSecAggOverGRPC(t *testing.T) {
	out := t.TempDir()
	srv, addr := fedServer(t, "--rounds", "1", "--min-clients", "3", "--secagg", "--out", out, "--name", "fed")
	var clients []*kilnProc
	for i := 1; i <= 3; i++ {
		clients = append(clients, fedClient(t, addr, i, 3))
	}
	if code := srv.exit(t, 2*time.Minute); code != 0 {
		t.Fatalf("server: status %d\n%s", code, srv.out.String())
	}
	for _, c := range clients {
		if code := c.exit(t, 30*time.Second); code != 0 {
			t.Fatalf("client: status %d\n%s", code, c.out.String())
		}
		if got := regexp.MustCompile(`round 1: secagg \w+`).FindAllString(c.out.String(), -1); len(got) < 3 {
			t.Fatalf("the client answered secure aggregation's stages %v:\n%s", got, c.out.String())
		}
	}
	if rows := roundRows(t, filepath.Join(out, "fed")); len(rows) != 1 || rows[0]["updates"] != "3" {
		t.Fatalf("metrics: %v", rows)
	}
}
