package checkpoint

// This file replaces files atomically. It leaves out locking: two writers of
// the same path each produce a whole file and the last rename wins, which is
// all checkpoints, metrics and configs need.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFileAtomic replaces the file at path with what write writes, so that
// a reader (or a crash) sees either the old file or the whole new one.
//
// write gets a buffered writer on a temporary file in the same directory.
// After write returns nil the file is flushed, synced to disk and renamed
// over path, and the directory is synced so that the rename itself is
// durable. If write (or any step before the rename) fails or panics, the
// temporary file is removed and the old file is untouched. A new file gets
// mode 0644 and a replaced one keeps its mode; a symlink at path is replaced,
// not followed.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("checkpoint: %s: sync directory: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. Some file systems cannot sync a
// directory and say so with EINVAL; there the rename is as durable as the
// file system allows, which is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
