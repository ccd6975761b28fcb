//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package run

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes a POSIX record lock on f, which the process's exit frees
// even when killed. It returns the pid of another process holding it, or 0
// when taken.
func lockFile(f *os.File) (int, error) {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EACCES) {
		return 0, err
	}
	q := syscall.Flock_t{Type: syscall.F_WRLCK}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &q); err != nil || q.Pid == 0 {
		return -1, nil
	}
	return int(q.Pid), nil
}
