package tune

// This file names the worker (this process) that claims trials, and tells
// whether a trial's worker on this host has died. It leaves out other
// hosts: their dead workers are found by heartbeat timeout.

import (
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	workerOnce sync.Once
	workerHost string
	workerName string
)

// WorkerID returns this process's worker name, "host:pid:nonce". host is
// the host name plus, where Linux tells, a hash of the boot and the pid
// namespace, so that containers sharing a host name (host networking) are
// not taken for one pid space. The nonce (start time) tells this process
// from an earlier one that had the same pid, as after a container restart.
func WorkerID() string {
	workerOnce.Do(func() {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "unknown"
		}
		workerHost = strings.ReplaceAll(h, ":", "_")
		boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
		ns, _ := os.Readlink("/proc/self/ns/pid")
		if len(boot) > 0 || ns != "" {
			f := fnv.New32a()
			f.Write(boot)
			f.Write([]byte(ns))
			workerHost += fmt.Sprintf("/%08x", f.Sum32())
		}
		workerName = fmt.Sprintf("%s:%d:%s", workerHost, os.Getpid(), strconv.FormatInt(time.Now().UnixNano(), 36))
	})
	return workerName
}

// parseWorker splits "host:pid:nonce".
func parseWorker(w string) (host string, pid int, nonce string, ok bool) {
	parts := strings.Split(w, ":")
	if len(parts) != 3 {
		return "", 0, "", false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return "", 0, "", false
	}
	return parts[0], pid, parts[2], true
}

// deadWorker reports whether worker w ran on this host and is certainly
// gone: an earlier process with this pid, or a pid no process holds. A pid
// reused by an unrelated process reads as alive; the heartbeat timeout
// catches that case.
func deadWorker(w string) bool {
	me := WorkerID()
	if w == me {
		return false
	}
	host, pid, _, ok := parseWorker(w)
	if !ok || host != workerHost {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	return !processAlive(pid)
}
