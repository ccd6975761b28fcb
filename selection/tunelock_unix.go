//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package selection

// This file takes the study folder's retraining lock with flock(2), which
// the kernel releases when its holder dies, so that a killed kiln tune
// never leaves a stale lock. It leaves out NFS, where flock may not lock
// across machines (study folders are per machine).

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile tries to take an exclusive lock on path without waiting. ok is
// false when another process (or another open of the file) holds it.
func lockFile(path string) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("selection: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("selection: locking %s: %w", path, err)
	}
	return func() { f.Close() }, true, nil
}
