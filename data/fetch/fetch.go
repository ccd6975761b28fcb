// Package fetch downloads the standard datasets into a local cache, for
// `kiln data fetch NAME`.
//
// Every file is checked against a SHA-256 sum before it is moved into place,
// so a file under its final name in the cache is always complete and
// correct; partial downloads live beside it as NAME.part and are resumed
// with an HTTP Range request.
//
// This file holds the entry points and options. It leaves out concurrent
// fetches of the same dataset from several processes: they would share the
// .part file; run one `kiln data fetch` at a time.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CacheEnv is the environment variable that overrides the cache root.
const CacheEnv = "KILN_CACHE"

// Options controls a fetch. The zero value downloads from the registered
// URLs into DefaultCacheDir with http.DefaultClient and no retries.
type Options struct {
	// CacheDir is the cache root; the dataset goes in CacheDir/NAME. Empty
	// means DefaultCacheDir().
	CacheDir string
	// BaseURL, if set, replaces the dataset's registered base URL: for a
	// mirror, or a local server in tests.
	BaseURL string
	// Client is the HTTP client; nil means http.DefaultClient.
	Client *http.Client
	// Progress, if set, is called as bytes arrive (from one goroutine).
	Progress func(Progress)
	// Retries is how many more times to try a file after a transient
	// failure (a cut connection, a 5xx status); each try resumes.
	Retries int
	// RetryWait is the pause before the first retry, doubling after each;
	// zero means one second.
	RetryWait time.Duration
}

// Progress reports the state of one file's download.
type Progress struct {
	Dataset string
	File    string
	Done    int64 // bytes on disk, including any resumed part
	Total   int64 // expected size, or -1 if unknown
}

// ChecksumError reports a downloaded file whose SHA-256 is not the
// registered one. The partial file has been removed.
type ChecksumError struct {
	File          string
	Expected, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("fetch: %s: sha256 mismatch: expected %s, got %s (download removed; try again, or check the mirror)", e.File, e.Expected, e.Got)
}

// StatusError reports an HTTP response with an unexpected status.
type StatusError struct {
	URL        string
	StatusCode int
	Status     string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch: GET %s: %s", e.URL, e.Status)
}

// DefaultCacheDir returns $KILN_CACHE if set, else os.UserCacheDir()/kiln.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("fetch: no cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "kiln"), nil
}

// Fetch downloads the registered dataset called name, unless it is already
// cached, and returns the directory holding its files (for a packed dataset,
// the unpacked directory).
func Fetch(ctx context.Context, name string, opt Options) (string, error) {
	spec, ok := Lookup(name)
	if !ok {
		return "", fmt.Errorf("fetch: unknown dataset %q: want one of %s", name, strings.Join(Names(), ", "))
	}
	return FetchSpec(ctx, spec, opt)
}

// FetchSpec is Fetch for a dataset described by the caller.
func FetchSpec(ctx context.Context, spec Spec, opt Options) (string, error) {
	if spec.Name == "" || strings.ContainsAny(spec.Name, `/\`) || spec.Name == "." || spec.Name == ".." {
		return "", fmt.Errorf("fetch: bad dataset name %q", spec.Name)
	}
	if spec.Unpack != "" && (len(spec.Files) != 1 || !validName(spec.Unpack)) {
		return "", fmt.Errorf("fetch: %s: Unpack needs exactly one archive file and a plain directory name", spec.Name)
	}
	root := opt.CacheDir
	if root == "" {
		var err error
		if root, err = DefaultCacheDir(); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(root, spec.Name)
	if spec.Unpack != "" {
		if fi, err := os.Stat(filepath.Join(dir, spec.Unpack)); err == nil && fi.IsDir() {
			return filepath.Join(dir, spec.Unpack), nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("fetch: cache directory: %w", err)
	}
	base := spec.BaseURL
	if opt.BaseURL != "" {
		base = opt.BaseURL
	}
	base = strings.TrimSuffix(base, "/")
	client := opt.Client
	if client == nil {
		client = http.DefaultClient
	}
	for _, f := range spec.Files {
		if !validName(f.Name) {
			return "", fmt.Errorf("fetch: %s: bad file name %q", spec.Name, f.Name)
		}
		if !validSum(f.SHA256) {
			return "", fmt.Errorf("fetch: %s: %s: SHA-256 %q is not 64 lower-case hex digits", spec.Name, f.Name, f.SHA256)
		}
		d := downloader{
			client:   client,
			url:      base + "/" + f.Name,
			path:     filepath.Join(dir, f.Name),
			file:     f,
			progress: opt.Progress,
			dataset:  spec.Name,
		}
		if err := withRetries(ctx, opt, d.run); err != nil {
			return "", err
		}
	}
	if spec.Unpack == "" {
		return dir, nil
	}
	if err := unpack(filepath.Join(dir, spec.Files[0].Name), dir, spec.Unpack); err != nil {
		return "", err
	}
	return filepath.Join(dir, spec.Unpack), nil
}

// validName reports whether name is a plain file name, so that nothing in a
// Spec can write outside the cache directory.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`) && !strings.HasSuffix(name, ".part")
}

// validSum reports whether s looks like a hex SHA-256 as hex.EncodeToString
// writes it; every file must have one, as nothing unverified is kept.
func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// withRetries runs try, retrying transient failures with a doubling pause.
func withRetries(ctx context.Context, opt Options, try func(context.Context) error) error {
	wait := opt.RetryWait
	if wait <= 0 {
		wait = time.Second
	}
	for attempt := 0; ; attempt++ {
		err := try(ctx)
		if err == nil || attempt >= opt.Retries || !transient(ctx, err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fetch: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// transient reports whether err is worth retrying: a broken connection or
// a server-side status, not a checksum mismatch, a 4xx, a local file-system
// error or a cancelled context.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode >= 500 || se.StatusCode == http.StatusTooManyRequests
	}
	var ne *netError
	return errors.As(err, &ne)
}

// netError marks a failure of the connection itself, which a retry that
// resumes may get past.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }
