package fetch

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name string
	typ  byte
	body string
}

func tarGz(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body))}
		if e.typ == tar.TypeDir {
			hdr.Mode, hdr.Size = 0o755, 0
		}
		if e.typ == tar.TypeSymlink {
			hdr.Linkname, hdr.Size = "/etc/passwd", 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func TestFetchUnpack(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    map[string]string // files under the unpacked directory
		err     string
	}{
		{"plain", []entry{
			{"pack/", tar.TypeDir, ""},
			{"pack/data_1.bin", tar.TypeReg, "one"},
			{"pack/meta.txt", tar.TypeReg, "cat\ndog\n"},
		}, map[string]string{"data_1.bin": "one", "meta.txt": "cat\ndog\n"}, ""},
		{"dot root, no dir entries, link skipped", []entry{
			{"./", tar.TypeDir, ""},
			{"./pack/sub/x.bin", tar.TypeReg, "x"},
			{"pack/link", tar.TypeSymlink, ""},
		}, map[string]string{"sub/x.bin": "x"}, ""},
		{"escape", []entry{
			{"pack/", tar.TypeDir, ""},
			{"pack/../../evil", tar.TypeReg, "boo"},
		}, nil, "leaves the archive's directory"},
		{"absolute", []entry{{"/tmp/evil", tar.TypeReg, "boo"}}, nil, "leaves the archive's directory"},
		{"wrong top directory", []entry{{"other/a", tar.TypeReg, "a"}}, nil, `no top-level directory "pack"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			archive := tarGz(t, tc.entries)
			srv := newServer(t, map[string][]byte{"pack.tar.gz": archive}, nil)
			cache := t.TempDir()
			spec := Spec{Name: "toy", Unpack: "pack", Files: []File{{"pack.tar.gz", sum(archive), int64(len(archive))}}}
			opt := Options{CacheDir: cache, BaseURL: srv.URL}
			dir, err := FetchSpec(context.Background(), spec, opt)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				ents, _ := os.ReadDir(filepath.Join(cache, "toy"))
				if len(ents) != 1 || ents[0].Name() != "pack.tar.gz" {
					t.Errorf("cache after a failed unpack holds %v, want only the archive", ents)
				}
				if _, err := os.Stat(filepath.Join(cache, "evil")); err == nil {
					t.Error("an entry escaped the cache")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dir != filepath.Join(cache, "toy", "pack") {
				t.Fatalf("dir %s", dir)
			}
			var got []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return err
			})
			if len(got) != len(tc.want) {
				t.Fatalf("unpacked %v, want %v", got, tc.want)
			}
			for name, body := range tc.want {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || string(b) != body {
					t.Errorf("%s: %q, %v; want %q", name, b, err, body)
				}
			}
			n := len(srv.requests())
			if _, err := FetchSpec(context.Background(), spec, opt); err != nil {
				t.Fatal(err)
			}
			if len(srv.requests()) != n {
				t.Error("fetch of an unpacked dataset made a request")
			}
		})
	}
}
