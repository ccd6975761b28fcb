package checkpoint

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dirNames lists dir, to catch leftover temporary files.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.json")
	for _, content := range []string{"first\n", "second, longer content\n", ""} {
		err := WriteFileAtomic(path, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("file holds %q, want %q", got, content)
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("directory holds %v, want only metrics.json", names)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("new file has mode %v, want 0644", fi.Mode().Perm())
	}
}

func TestWriteFileAtomicKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil { // umask aside
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced file has mode %v, want 0600 kept", fi.Mode().Perm())
	}
}

// TestWriteFileAtomicFailureKeepsOldFile checks that a write that fails
// half-way, or panics, leaves the old file whole and no temporary file.
func TestWriteFileAtomicFailureKeepsOldFile(t *testing.T) {
	const old = "old checkpoint bytes"
	errBoom := errors.New("boom")
	tests := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"error after a partial write", func(w io.Writer) error {
			io.WriteString(w, strings.Repeat("partial ", 1<<18)) // past the buffer, so it reaches the temp file
			return errBoom
		}},
		{"error before writing", func(io.Writer) error { return errBoom }},
		{"panic", func(w io.Writer) error {
			io.WriteString(w, "partial")
			panic(errBoom)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
				t.Fatal(err)
			}
			err := func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = r.(error)
					}
				}()
				return WriteFileAtomic(path, tt.write)
			}()
			if !errors.Is(err, errBoom) {
				t.Errorf("error %v, want boom", err)
			}
			if err != nil && !strings.Contains(err.Error(), "boom") {
				t.Errorf("error %q lost the cause", err)
			}
			got, rerr := os.ReadFile(path)
			if rerr != nil || string(got) != old {
				t.Errorf("old file now holds %.40q (%v), want %q", got, rerr, old)
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("directory holds %v, want only the old file", names)
			}
		})
	}
}

func TestWriteFileAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	ok := func(w io.Writer) error { return nil }

	err := WriteFileAtomic(filepath.Join(dir, "missing", "x.json"), ok)
	if err == nil || !strings.HasPrefix(err.Error(), "checkpoint: ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: %v", err)
	}

	// A directory at the path makes the rename fail after the data is
	// written; the temporary file must still go.
	target := filepath.Join(dir, "taken")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(target, ok); err == nil {
		t.Error("replacing a directory succeeded")
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "taken" {
		t.Errorf("directory holds %v, want only taken", names)
	}
}

// TestWriteLeavesOldCheckpointOnEncodeError checks Write's use of the atomic
// path: an invalid model never clobbers the previous checkpoint.
func TestWriteLeavesOldCheckpointOnEncodeError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := Write(path, kilnFile()); err != nil {
		t.Fatal(err)
	}
	bad := &File{Tensors: map[string]*Tensor{"x": {DType: F32, Shape: []int{2}, Data: []float32{1}}}}
	err := Write(path, bad)
	want := "checkpoint: " + path + `: tensor "x": F32 shape [2] needs 2 values`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Write error = %v, want prefix %q", err, want)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != len(kilnFile().Tensors) {
		t.Errorf("old checkpoint damaged: %d tensors", len(f.Tensors))
	}
}
