package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// payload returns n reproducible pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// server serves files by name, recording each request's Range header
// ("" for none), with behaviour chosen per test.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	ranges []string
}

func newServer(t *testing.T, files map[string][]byte, h func(w http.ResponseWriter, r *http.Request, content []byte)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		s.mu.Unlock()
		content, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if h == nil {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
			return
		}
		h(w, r, content)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

// cutFirst serves the first cut bytes of a full (non-Range) request and then
// drops the connection; Range requests are served properly.
func cutFirst(cut int) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, content []byte) {
		if r.Header.Get("Range") != "" {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.WriteHeader(http.StatusOK)
		w.Write(content[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
}

// toySpec is a two-file dataset; a.bin is large enough to arrive in
// several reads.
func toySpec() (Spec, map[string][]byte) {
	files := map[string][]byte{"a.bin": payload(300_000, 1), "b.bin": payload(1000, 2)}
	spec := Spec{Name: "toy", Files: []File{
		{"a.bin", sum(files["a.bin"]), int64(len(files["a.bin"]))},
		{"b.bin", sum(files["b.bin"]), int64(len(files["b.bin"]))},
	}}
	return spec, files
}

// checkCache asserts that dir holds exactly the given files, complete, and
// no .part files.
func checkCache(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(files) {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("cache holds %v, want %d files", names, len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes differ from the %d served", name, len(got), len(want))
		}
	}
}

func TestFetchFull(t *testing.T) {
	spec, files := toySpec()
	srv := newServer(t, files, nil)
	cache := t.TempDir()
	var last = map[string]Progress{}
	calls := 0
	dir, err := FetchSpec(context.Background(), spec, Options{CacheDir: cache, BaseURL: srv.URL + "/", Progress: func(p Progress) {
		calls++
		if prev, ok := last[p.File]; ok && p.Done < prev.Done {
			t.Errorf("progress for %s went back from %d to %d", p.File, prev.Done, p.Done)
		}
		last[p.File] = p
	}})
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(cache, "toy") {
		t.Fatalf("dir %s", dir)
	}
	checkCache(t, dir, files)
	for name, b := range files {
		p := last[name]
		if p.Dataset != "toy" || p.Done != int64(len(b)) || p.Total != int64(len(b)) {
			t.Errorf("last progress for %s: %+v, want Done = Total = %d", name, p, len(b))
		}
	}
	if calls < 4 {
		t.Errorf("only %d progress calls for a 300 kB file", calls)
	}
	if got := srv.requests(); len(got) != 2 || got[0] != "" || got[1] != "" {
		t.Errorf("requests %q, want two plain GETs", got)
	}
}

func TestFetchCacheHit(t *testing.T) {
	spec, files := toySpec()
	srv := newServer(t, files, nil)
	opt := Options{CacheDir: t.TempDir(), BaseURL: srv.URL}
	if _, err := FetchSpec(context.Background(), spec, opt); err != nil {
		t.Fatal(err)
	}
	n := len(srv.requests())
	if _, err := FetchSpec(context.Background(), spec, opt); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests(); len(got) != n {
		t.Fatalf("second fetch made %d more requests, want none", len(got)-n)
	}
}

func TestFetchErrors(t *testing.T) {
	content := payload(10_000, 4)
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, []byte)
		file    File
		retries int
		check   func(t *testing.T, err error)
		nreq    int
	}{
		{"checksum mismatch", nil, File{"a.bin", strings.Repeat("ab", 32), 10_000}, 0, func(t *testing.T, err error) {
			var ce *ChecksumError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want *ChecksumError", err)
			}
			if ce.Expected != strings.Repeat("ab", 32) || ce.Got != sum(content) || !strings.HasSuffix(ce.File, "a.bin") {
				t.Errorf("%+v", ce)
			}
			msg := err.Error()
			if !strings.Contains(msg, "a.bin") || !strings.Contains(msg, ce.Expected) || !strings.Contains(msg, ce.Got) {
				t.Errorf("message %q does not name the file and both sums", msg)
			}
		}, 1},
		{"404", nil, File{"missing.bin", sum(content), 10_000}, 3, func(t *testing.T, err error) {
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != 404 || !strings.Contains(err.Error(), "missing.bin") {
				t.Fatalf("error %v, want a 404 StatusError naming the URL", err)
			}
		}, 1}, // a 404 is not retried
		{"500 retried", func(w http.ResponseWriter, r *http.Request, c []byte) {
			http.Error(w, "busy", http.StatusInternalServerError)
		}, File{"a.bin", sum(content), 10_000}, 2, func(t *testing.T, err error) {
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != 500 {
				t.Fatalf("error %v, want a 500 StatusError", err)
			}
		}, 3},
		{"longer than registered", nil, File{"a.bin", sum(content[:9000]), 9000}, 0, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "got 9001 bytes, expected 9000") {
				t.Fatalf("error %v, want a size mismatch", err)
			}
		}, 1},
		{"shorter than registered", nil, File{"a.bin", sum(content), 20_000}, 0, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "got 10000 bytes, expected 20000") {
				t.Fatalf("error %v, want a size mismatch", err)
			}
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, map[string][]byte{"a.bin": content}, tc.handler)
			cache := t.TempDir()
			spec := Spec{Name: "toy", Files: []File{tc.file}}
			_, err := FetchSpec(context.Background(), spec, Options{CacheDir: cache, BaseURL: srv.URL, Retries: tc.retries, RetryWait: time.Millisecond})
			tc.check(t, err)
			checkCache(t, filepath.Join(cache, "toy"), nil) // nothing left behind
			if got := srv.requests(); len(got) != tc.nreq {
				t.Errorf("%d requests, want %d", len(got), tc.nreq)
			}
		})
	}
}

func TestFetchBadSpec(t *testing.T) {
	good := strings.Repeat("0", 64)
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"no name", Spec{Files: []File{{"a", good, 1}}}, "bad dataset name"},
		{"name with slash", Spec{Name: "../x"}, "bad dataset name"},
		{"file outside", Spec{Name: "x", Files: []File{{"../a", good, 1}}}, "bad file name"},
		{"part name", Spec{Name: "x", Files: []File{{"a.part", good, 1}}}, "bad file name"},
		{"no checksum", Spec{Name: "x", Files: []File{{"a", "", 1}}}, "not 64 lower-case hex"},
		{"upper-case checksum", Spec{Name: "x", Files: []File{{"a", strings.Repeat("A", 64), 1}}}, "not 64 lower-case hex"},
		{"unpack two files", Spec{Name: "x", Unpack: "d", Files: []File{{"a", good, 1}, {"b", good, 1}}}, "exactly one archive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FetchSpec(context.Background(), tc.spec, Options{CacheDir: t.TempDir(), BaseURL: "http://127.0.0.1:1"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	_, err := Fetch(context.Background(), "imagenet", Options{CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "cifar10, fashion-mnist, mnist") {
		t.Fatalf("unknown dataset: error %v, want the known names", err)
	}
}

func TestFetchCancel(t *testing.T) {
	content := payload(200_000, 5)
	srv := newServer(t, map[string][]byte{"a.bin": content}, func(w http.ResponseWriter, r *http.Request, c []byte) {
		w.Header().Set("Content-Length", strconv.Itoa(len(c)))
		w.Write(c[:50_000])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stall until the client gives up
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cache := t.TempDir()
	spec := Spec{Name: "toy", Files: []File{{"a.bin", sum(content), int64(len(content))}}}
	_, err := FetchSpec(ctx, spec, Options{CacheDir: cache, BaseURL: srv.URL, Retries: 5, Progress: func(p Progress) {
		if p.Done > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	fi, serr := os.Stat(filepath.Join(cache, "toy", "a.bin.part"))
	if serr != nil || fi.Size() == 0 {
		t.Fatalf("after cancel: .part %v, %v; want the bytes so far kept for resuming", fi, serr)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (cancel is not retried)", n)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(CacheEnv, "/some/where")
	if d, err := DefaultCacheDir(); err != nil || d != "/some/where" {
		t.Fatalf("with %s set: %q, %v", CacheEnv, d, err)
	}
	t.Setenv(CacheEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	d, err := DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if base, _ := os.UserCacheDir(); d != filepath.Join(base, "kiln") {
		t.Fatalf("default %q, want UserCacheDir/kiln", d)
	}

	// Fetch itself honours the variable.
	spec, files := toySpec()
	srv := newServer(t, files, nil)
	root := t.TempDir()
	t.Setenv(CacheEnv, root)
	dir, err := FetchSpec(context.Background(), spec, Options{BaseURL: srv.URL})
	if err != nil || dir != filepath.Join(root, "toy") {
		t.Fatalf("dir %q, err %v; want under %s", dir, err, root)
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in          string
		start, size int64
		ok          bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes 5-4/10", 0, 0, false},
		{"bytes 5-9/9", 0, 0, false},
		{"bytes */200", 0, 0, false},
		{"items 0-1/2", 0, 0, false},
		{"bytes -1-5/10", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		start, size, ok := parseContentRange(tc.in)
		if ok != tc.ok || (ok && (start != tc.start || size != tc.size)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v; want %d, %d, %v", tc.in, start, size, ok, tc.start, tc.size, tc.ok)
		}
	}
}

func TestRegistry(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "cifar10,fashion-mnist,mnist" {
		t.Fatalf("Names %q", got)
	}
	for _, name := range Names() {
		s, ok := Lookup(name)
		if !ok || s.Name != name || len(s.Files) == 0 {
			t.Fatalf("Lookup(%q) = %+v, %v", name, s, ok)
		}
		if !strings.HasPrefix(s.BaseURL, "http://") && !strings.HasPrefix(s.BaseURL, "https://") {
			t.Errorf("%s: base URL %q", name, s.BaseURL)
		}
		seen := map[string]bool{}
		for _, f := range s.Files {
			if !validName(f.Name) || !validSum(f.SHA256) || f.Size <= 0 || seen[f.Name] || seen[f.SHA256] {
				t.Errorf("%s: bad or duplicate entry %+v", name, f)
			}
			seen[f.Name], seen[f.SHA256] = true, true
		}
		s.Files[0].SHA256 = "changed"
		if again, _ := Lookup(name); again.Files[0].SHA256 == "changed" {
			t.Errorf("Lookup(%q) shares its Files with the registry", name)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup of an unknown name succeeded")
	}
}
