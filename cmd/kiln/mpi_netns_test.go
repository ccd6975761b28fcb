//go:build mpi

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// netnsHosts makes two network namespaces joined by a veth pair, two
// "hosts" on one machine with their own addresses and names, and returns
// their namespaces and addresses. It skips the test where namespaces
// cannot be made (not root, no iproute2 or unshare).
func netnsHosts(t *testing.T) (ns, addr [2]string) {
	t.Helper()
	for _, tool := range []string{"ip", "unshare", "mpirun"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (iproute2, util-linux, openmpi-bin)", tool)
		}
	}
	if os.Getuid() != 0 {
		t.Skip("network namespaces need root")
	}
	id := os.Getpid() % 200
	for i := range ns {
		ns[i] = fmt.Sprintf("kiln%d%c", os.Getpid(), 'a'+i)
		addr[i] = fmt.Sprintf("10.%d.%d.%d", 100+id/100, id%100, i+1)
	}
	veth := [2]string{fmt.Sprintf("kv%da", os.Getpid()%100000), fmt.Sprintf("kv%db", os.Getpid()%100000)}
	t.Cleanup(func() {
		for _, n := range ns {
			exec.Command("ip", "netns", "del", n).Run()
		}
	})
	steps := [][]string{
		{"netns", "add", ns[0]}, {"netns", "add", ns[1]},
		{"link", "add", veth[0], "type", "veth", "peer", "name", veth[1]},
	}
	for i := range ns {
		steps = append(steps, []string{"link", "set", veth[i], "netns", ns[i]},
			[]string{"-n", ns[i], "addr", "add", addr[i] + "/24", "dev", veth[i]},
			[]string{"-n", ns[i], "link", "set", veth[i], "up"},
			[]string{"-n", ns[i], "link", "set", "lo", "up"})
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Skipf("cannot make network namespaces here: ip %s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	return ns, addr
}

// TestMPITwoHosts runs one job of two ranks on two "hosts", network
// namespaces joined by a veth pair, over TCP: mpirun starts in the first
// and launches the second rank through an rsh agent that enters the other
// namespace (as ssh would log in to another machine). The run must end
// with the model of the same job on one host, to the bit.
func TestMPITwoHosts(t *testing.T) {
	ns, addr := netnsHosts(t)
	data, out := patterns(t), t.TempDir()
	args := append(lenetFlags(data, out, "one-host"), "--epochs", "1", "--batch-size", "16")
	if code, log := mpirun(t, 2, args...); code != 0 {
		t.Fatalf("one host: exit %d\n%s", code, log)
	}

	agent := filepath.Join(t.TempDir(), "netns-agent")
	script := fmt.Sprintf("#!/bin/sh\n# Open MPI's rsh agent for hosts that are network namespaces.\nhost=$1; shift\ncase $host in\n%s) ns=%s ;;\n%s) ns=%s ;;\n*) echo unknown host $host >&2; exit 1 ;;\nesac\nexec ip netns exec \"$ns\" unshare --uts sh -c \"hostname $ns; $*\"\n",
		addr[0], ns[0], addr[1], ns[1])
	if err := os.WriteFile(agent, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(append(lenetFlags(data, out, "two-hosts"), "--epochs", "1", "--batch-size", "16"))
	subnet := addr[0][:strings.LastIndex(addr[0], ".")] + ".0/24"
	mpi := []string{"mpirun", "--host", addr[0] + "," + addr[1], "-np", "2", "--mca", "plm_rsh_agent", agent,
		"--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", subnet, "--mca", "oob_tcp_if_include", subnet,
		"-x", "OMPI_ALLOW_RUN_AS_ROOT", "-x", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "-x", envArgs + "=" + string(spec),
		os.Args[0], "-test.run=^TestKilnProcess$"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns[0], "unshare", "--uts", "sh", "-c", "hostname " + ns[0] + "; exec \"$@\"", "sh"}, mpi...)...)
	cmd.Env = append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	b, err := cmd.CombinedOutput()
	log := string(b)
	if err != nil {
		t.Fatalf("two hosts: %v\n%s", err, log)
	}
	if !strings.Contains(log, "2 ranks (2 on 2 hosts)") {
		t.Errorf("the job should run on two hosts:\n%s", log)
	}
	one, err := os.ReadFile(filepath.Join(out, "one-host", "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	two, err := os.ReadFile(filepath.Join(out, "two-hosts", "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one, two) {
		t.Error("the two-host run's model differs from the one-host run's")
	}
}
