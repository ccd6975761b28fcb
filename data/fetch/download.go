package fetch

// This file downloads one file with resume and verification. It leaves out
// parallel (multi-range) downloads: the files are small enough that one
// stream is fine.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// downloader fetches one file of a dataset into path, via path+".part".
type downloader struct {
	client   *http.Client
	url      string
	path     string
	file     File
	progress func(Progress)
	dataset  string
}

// run makes one attempt. On a broken connection it keeps the .part file for
// the next attempt to resume; on a wrong checksum or size it removes it, and
// it never leaves an empty one behind.
func (d *downloader) run(ctx context.Context) error {
	err := d.attempt(ctx)
	if err != nil {
		if fi, serr := os.Stat(d.path + ".part"); serr == nil && fi.Size() == 0 {
			os.Remove(d.path + ".part")
		}
	}
	return err
}

func (d *downloader) attempt(ctx context.Context) error {
	if fi, err := os.Stat(d.path); err == nil && fi.Mode().IsRegular() && (d.file.Size == 0 || fi.Size() == d.file.Size) {
		// Only a verified download is ever renamed to the final name.
		return nil
	}
	part := d.path + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	defer f.Close() // a no-op error after the explicit Close below

	h := sha256.New()
	off, err := d.resumePoint(f, h)
	if err != nil {
		return err
	}
	if d.file.Size == 0 || off < d.file.Size {
		if off, err = d.receive(ctx, f, h, off); err != nil {
			return err
		}
	}

	if d.file.Size > 0 && off != d.file.Size {
		f.Close()
		os.Remove(part)
		return fmt.Errorf("fetch: %s: got %d bytes, expected %d (download removed)", d.url, off, d.file.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.file.SHA256 {
		f.Close()
		os.Remove(part)
		return &ChecksumError{File: d.path, Expected: d.file.SHA256, Got: got}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if err := os.Rename(part, d.path); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	syncDir(filepath.Dir(d.path))
	return nil
}

// resumePoint hashes what an earlier attempt left in the .part file and
// returns its length, leaving f positioned at its end. A .part longer than
// the expected size cannot be a prefix of the file, so it is discarded.
func (d *downloader) resumePoint(f *os.File, h hash.Hash) (int64, error) {
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("fetch: %w", err)
	}
	if d.file.Size > 0 && off > d.file.Size {
		return 0, restart(f, h)
	}
	if off > 0 {
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, off)); err != nil {
			return 0, fmt.Errorf("fetch: rereading %s.part: %w", d.path, err)
		}
	}
	return off, nil
}

// restart empties the .part file and the running hash.
func restart(f *os.File, h hash.Hash) error {
	h.Reset()
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return nil
}

// receive requests the file from byte off on, appends the body to f and h,
// and returns the new length.
func (d *downloader) receive(ctx context.Context, f *os.File, h hash.Hash, off int64) (int64, error) {
	resp, err := d.get(ctx, off)
	if err != nil {
		return off, err
	}
	if off > 0 {
		switch {
		case resp.StatusCode == http.StatusOK:
			// The server ignored Range and sends the whole file.
			if err := restart(f, h); err != nil {
				resp.Body.Close()
				return 0, err
			}
			off = 0
		case resp.StatusCode == http.StatusPartialContent && d.rangeMatches(resp, off):
		case resp.StatusCode == http.StatusPartialContent || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
			// A range other than the one asked for, or the part no longer
			// fits the file: start again from scratch.
			resp.Body.Close()
			if err := restart(f, h); err != nil {
				return 0, err
			}
			off = 0
			if resp, err = d.get(ctx, 0); err != nil {
				return 0, err
			}
		}
	}
	defer resp.Body.Close()
	want := http.StatusOK
	if off > 0 {
		want = http.StatusPartialContent
	}
	if resp.StatusCode != want {
		return off, &StatusError{URL: d.url, StatusCode: resp.StatusCode, Status: resp.Status}
	}

	total := d.file.Size
	if total == 0 {
		total = -1
		if resp.ContentLength >= 0 {
			total = off + resp.ContentLength
		}
	}
	d.report(off, total)
	body := io.Reader(resp.Body)
	if d.file.Size > 0 {
		// One byte more than needed is enough to tell that the server is
		// sending something else, without trusting it to stop.
		body = io.LimitReader(body, d.file.Size-off+1)
	}
	buf := make([]byte, 64<<10)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return off, fmt.Errorf("fetch: %w", err)
			}
			h.Write(buf[:n])
			off += int64(n)
			d.report(off, total)
		}
		if rerr == io.EOF {
			return off, nil
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return off, fmt.Errorf("fetch: %s: %w (%d bytes kept in %s.part)", d.url, ctx.Err(), off, d.path)
			}
			return off, fmt.Errorf("fetch: %s after %d bytes: %w", d.url, off, &netError{rerr})
		}
	}
}

// get issues the request, asking for bytes from off on when off > 0.
func (d *downloader) get(ctx context.Context, off int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	// Without this, Go's transport asks for gzip and transparently
	// decompresses a .gz file that a server labels Content-Encoding: gzip,
	// and the bytes on disk would not be the bytes the checksum is for.
	req.Header.Set("Accept-Encoding", "identity")
	if off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("fetch: %s: %w", d.url, ctx.Err())
		}
		return nil, fmt.Errorf("fetch: %w", &netError{err})
	}
	return resp, nil
}

// rangeMatches reports whether a 206 response continues at off and, where
// both are known, describes a file of the expected size.
func (d *downloader) rangeMatches(resp *http.Response, off int64) bool {
	start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
	return ok && start == off && (size < 0 || d.file.Size == 0 || size == d.file.Size)
}

// parseContentRange parses "bytes START-END/SIZE", with SIZE -1 for "*".
func parseContentRange(s string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	first, last, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	size = -1
	if sz != "*" {
		var err error
		if size, err = strconv.ParseInt(sz, 10, 64); err != nil || size <= end {
			return 0, 0, false
		}
	}
	return start, size, true
}

func (d *downloader) report(done, total int64) {
	if d.progress != nil {
		d.progress(Progress{Dataset: d.dataset, File: d.file.Name, Done: done, Total: total})
	}
}

// syncDir makes a rename durable; failure only weakens crash safety, so it
// is ignored (some file systems refuse to sync a directory).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}
