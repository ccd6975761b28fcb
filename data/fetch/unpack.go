package fetch

// This file unpacks a verified .tar.gz into the cache. It leaves out other
// archive formats and links inside archives (skipped: none of the
// registered datasets has any, and a link could point out of the cache).

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxUnpackBytes bounds the unpacked size; CIFAR-10 unpacks to 185 MB.
const maxUnpackBytes = 4 << 30

// unpack extracts archive into a temporary directory inside dir and then
// renames its top-level directory name to dir/name, so dir/name appears
// whole or not at all.
func unpack(archive, dir, name string) error {
	tmp, err := os.MkdirTemp(dir, ".unpack-")
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := extract(archive, tmp); err != nil {
		return err
	}
	if fi, err := os.Stat(filepath.Join(tmp, name)); err != nil || !fi.IsDir() {
		return fmt.Errorf("fetch: %s: archive has no top-level directory %q", archive, name)
	}
	if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	syncDir(dir)
	return nil
}

// extract writes the directories and regular files of a .tar.gz under dst.
func extract(archive, dst string) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("fetch: %s: %w", archive, err)
	}
	tr := tar.NewReader(zr)
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fetch: %s: %w", archive, err)
		}
		rel, ok := safePath(hdr.Name)
		if rel == "." {
			continue // the archive's own root, as in "./"
		}
		if !ok {
			return fmt.Errorf("fetch: %s: entry %q leaves the archive's directory", archive, hdr.Name)
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
		case tar.TypeReg:
			total += hdr.Size
			if total > maxUnpackBytes {
				return fmt.Errorf("fetch: %s: unpacks to more than %d bytes", archive, int64(maxUnpackBytes))
			}
			if err := writeEntry(target, tr); err != nil {
				return fmt.Errorf("fetch: %s: %w", archive, err)
			}
		}
	}
}

// safePath cleans a tar entry name and rejects one that is absolute or
// climbs out with "..". The root itself comes back as ".".
func safePath(name string) (string, bool) {
	if strings.HasPrefix(name, "/") || strings.Contains(name, `\`) {
		return "", false
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return clean, true
}

func writeEntry(target string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
