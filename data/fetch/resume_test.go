package fetch

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFetchResume(t *testing.T) {
	content := payload(200_000, 3)
	good := sum(content)
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, []byte)
		part    []byte // left in a.bin.part before the fetch; nil for none
		retries int
		// fails says the first Fetch should fail, and a second one resume.
		fails bool
		// ranges are the Range headers the server should see; "N" stands
		// for "bytes=N-" where N is the size the cut left behind.
		ranges []string
	}{
		{"cut connection, rerun", cutFirst(120_000), nil, 0, true, []string{"", "N"}},
		{"cut connection, retried", cutFirst(120_000), nil, 2, false, []string{"", "N"}},
		{"resume from part", nil, content[:5000], 0, false, []string{"bytes=5000-"}},
		{"no Range support", func(w http.ResponseWriter, r *http.Request, c []byte) {
			w.Write(c) // plain 200 whatever was asked
		}, []byte("garbage that is not a prefix"), 0, false, []string{"bytes=28-"}},
		{"wrong Content-Range", func(w http.ResponseWriter, r *http.Request, c []byte) {
			if r.Header.Get("Range") != "" {
				w.Header().Set("Content-Range", "bytes 0-99/200000")
				w.WriteHeader(http.StatusPartialContent)
				w.Write(c[:100])
				return
			}
			w.Write(c)
		}, content[:5000], 0, false, []string{"bytes=5000-", ""}},
		{"416", func(w http.ResponseWriter, r *http.Request, c []byte) {
			if r.Header.Get("Range") != "" {
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			w.Write(c)
		}, content[:5000], 0, false, []string{"bytes=5000-", ""}},
		{"part longer than file", nil, append(append([]byte(nil), content...), 1, 2, 3), 0, false, []string{""}},
		{"complete part", nil, content, 0, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"a.bin": content}
			srv := newServer(t, files, tc.handler)
			spec := Spec{Name: "toy", Files: []File{{"a.bin", good, int64(len(content))}}}
			cache := t.TempDir()
			dir := filepath.Join(cache, "toy")
			if tc.part != nil {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(filepath.Join(dir, "a.bin.part"), tc.part, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			opt := Options{CacheDir: cache, BaseURL: srv.URL, Retries: tc.retries, RetryWait: time.Millisecond}
			_, err := FetchSpec(context.Background(), spec, opt)
			var cutAt int64 = -1
			if tc.fails {
				var ne *netError
				if !errors.As(err, &ne) {
					t.Fatalf("first fetch: error %v, want a connection error", err)
				}
				fi, serr := os.Stat(filepath.Join(dir, "a.bin.part"))
				if serr != nil || fi.Size() == 0 || fi.Size() > 120_000 {
					t.Fatalf("after the cut: .part %v, %v; want 1 to 120000 bytes kept", fi, serr)
				}
				if _, serr := os.Stat(filepath.Join(dir, "a.bin")); serr == nil {
					t.Fatal("a.bin exists after a cut download")
				}
				cutAt = fi.Size()
				_, err = FetchSpec(context.Background(), spec, opt)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkCache(t, dir, files)
			got := srv.requests()
			if len(got) != len(tc.ranges) {
				t.Fatalf("requests %q, want %q", got, tc.ranges)
			}
			for i, want := range tc.ranges {
				if want == "N" {
					if !strings.HasPrefix(got[i], "bytes=") || got[i] == "bytes=0-" {
						t.Errorf("request %d: Range %q, want a resume", i, got[i])
					}
					if cutAt >= 0 && got[i] != "bytes="+strconv.FormatInt(cutAt, 10)+"-" {
						t.Errorf("request %d: Range %q, want bytes=%d-", i, got[i], cutAt)
					}
					continue
				}
				if got[i] != want {
					t.Errorf("request %d: Range %q, want %q", i, got[i], want)
				}
			}
		})
	}
}
