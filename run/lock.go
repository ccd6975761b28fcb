package run

// This file holds the run directory's lock: one kiln process at a time
// trains into a run directory. NewRunDir takes it for a new run and a
// resumed run takes it again, so a second "kiln train --resume" of a run
// that is training, or of one just started, stops with an error instead of
// writing the same files. The lock file is removed when the run ends (a
// killed run leaves it, unlocked). It leaves out waiting for the lock.

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// LockFile is the file in a run directory that LockRun locks.
const LockFile = ".kiln.lock"

var (
	locksMu sync.Mutex
	locks   = map[string]*os.File{} // held until the process exits; closing the file would free the lock
)

// LockRun takes dir's lock for this process until UnlockRun or its exit,
// or returns a SettingError naming the process that holds it (this one,
// for a run it is training already). Where the system has no record locks
// only runs in this process are kept apart.
func LockRun(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	locksMu.Lock()
	defer locksMu.Unlock()
	if locks[abs] != nil {
		return &SettingError{fmt.Errorf("run directory %s is in use by another run in this process (pid %d)", dir, os.Getpid())}
	}
	path := filepath.Join(abs, LockFile)
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("run: lock %s: %w", dir, err)
		}
		pid, err := lockFile(f)
		if err != nil {
			f.Close()
			return fmt.Errorf("run: lock %s: %w", dir, err)
		}
		if pid != 0 {
			f.Close()
			return &SettingError{fmt.Errorf("run directory %s is in use by another kiln process (pid %d); wait for it to finish, or pick another --name", dir, pid)}
		}
		// The holder before us removes the file before it lets go: a lock
		// on a file no longer at path is no lock, so open it again.
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			locks[abs] = f
			return nil
		}
		f.Close()
	}
	return fmt.Errorf("run: lock %s: the lock file keeps being replaced", dir)
}

// UnlockRun frees dir's lock, taken by LockRun or NewRunDir, when this
// process holds it; a process that trains many runs (kiln tune) calls it
// as each one ends.
func UnlockRun(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	locksMu.Lock()
	defer locksMu.Unlock()
	if f := locks[abs]; f != nil {
		os.Remove(filepath.Join(abs, LockFile)) // while still held: see LockRun
		f.Close()
		delete(locks, abs)
	}
}
