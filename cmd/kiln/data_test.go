package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/fetch"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/source"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(to), 0o755)
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDataStats reports on a folder with a duplicate across two classes, a
// file that is not an image, and a test image copied from training.
func TestDataStats(t *testing.T) {
	dir := t.TempDir()
	writeFolder(t, filepath.Join(dir, "train"), 48, 1, 6)
	writeFolder(t, filepath.Join(dir, "test"), 12, 2, 6)
	src := filepath.Join(dir, "train", "cross", "005.png")
	copyFile(t, src, filepath.Join(dir, "train", "ring", "copy.png"))
	copyFile(t, src, filepath.Join(dir, "test", "cross", "leak.png"))
	bad := filepath.Join(dir, "train", "square", "bad.png")
	os.WriteFile(bad, []byte("not a picture"), 0o644)

	code, stdout, stderr := kiln(t, context.Background(), "data", "stats", dir, "--json", "--image-size", "16")
	var rep source.StatsReport
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil {
		t.Fatalf("data stats --json: status %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if rep.Format != source.FormatImageFolder || len(rep.Splits) != 2 {
		t.Fatalf("format %q, %d splits", rep.Format, len(rep.Splits))
	}
	tr, te := rep.Splits[0], rep.Splits[1]
	// Classes sort by name: cross dstripes hstripes ring square vstripes;
	// 8 of each, plus the copy in ring.
	want := map[string]int{"cross": 8, "dstripes": 8, "hstripes": 8, "ring": 9, "square": 8, "vstripes": 8}
	for _, c := range tr.Classes {
		if c.Count != want[c.Class] {
			t.Errorf("train class %s: %d images, want %d", c.Class, c.Count, want[c.Class])
		}
	}
	if tr.Examples != 49 || tr.Found != 50 || len(tr.Skipped) != 1 || tr.Skipped[0].Path != bad || tr.Imbalance != 9.0/8 {
		t.Errorf("train: %d examples of %d files, skipped %+v, imbalance %g", tr.Examples, tr.Found, tr.Skipped, tr.Imbalance)
	}
	if len(tr.Duplicates) != 1 || strings.Join(tr.Duplicates[0], " ") != src+" "+filepath.Join(dir, "train", "ring", "copy.png") {
		t.Errorf("train duplicates %v", tr.Duplicates)
	}
	if len(te.Duplicates) != 0 || te.Examples != 13 {
		t.Errorf("test: %d examples, duplicates %v", te.Examples, te.Duplicates)
	}
	if len(rep.CrossSplit) != 1 || rep.CrossSplit[0][0] != filepath.Join(dir, "test", "cross", "leak.png") || rep.CrossSplit[0][1] != src {
		t.Errorf("cross-split duplicates %v", rep.CrossSplit)
	}
	// Grey images decoded as RGB: three equal channels, in (0, 1).
	if len(tr.Mean) != 3 || tr.Mean[0] != tr.Mean[1] || tr.Mean[1] != tr.Mean[2] || !(tr.Mean[0] > 0 && tr.Mean[0] < 1) || !(tr.Std[0] > 0) {
		t.Errorf("mean %v, std %v", tr.Mean, tr.Std)
	}
	if !equalInts(tr.Shape, []int{3, 16, 16}) {
		t.Errorf("shape %v", tr.Shape)
	}

	code, stdout, _ = kiln(t, context.Background(), "data", "stats", "--data", dir, "--channels", "1")
	for _, w := range []string{"train: 49 examples of [1 32 32]", "ring            9   18.4%", "duplicates: 1 group of identical", "skipped " + bad,
		"across splits: 1 test example is a copy", "channel mean 0."} {
		if code != 0 || !strings.Contains(stdout, w) {
			t.Errorf("data stats output lacks %q:\n%s", w, stdout)
		}
	}

	// IDX files: duplicates by pixels, named by split and index.
	idxDir := t.TempDir()
	writeIDX(t, idxDir, "train", 20, 16, 16, 1)
	code, stdout, stderr = kiln(t, context.Background(), "data", "stats", idxDir, "--json")
	rep = source.StatsReport{}
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil {
		t.Fatalf("data stats IDX: status %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if rep.Format != source.FormatIDX || len(rep.Splits) != 1 || rep.Splits[0].Examples != 20 || len(rep.Splits[0].Classes) != 10 {
		t.Errorf("IDX report %+v", rep)
	}
	// synth draws each class's pattern with a random phase: any exact
	// copies must name examples of one class.
	for _, g := range rep.Splits[0].Duplicates {
		if !strings.HasPrefix(g[0], "train[") {
			t.Errorf("IDX duplicate names %v", g)
		}
	}
	_ = synth.Classes
}

// TestDataFetch fetches from a local server: a file with the wrong bytes
// is refused by its checksum; Debian's Fashion-MNIST, where installed and
// put back into its upstream form, is fetched and recognised.
func TestDataFetch(t *testing.T) {
	// Zeros of each file's registered size: only the checksum is wrong.
	mnist, _ := fetch.Lookup("mnist")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, f := range mnist.Files {
			if "/"+f.Name == r.URL.Path {
				w.Write(make([]byte, f.Size))
				return
			}
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	cache := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "data", "fetch", "mnist", "--cache", cache, "--mirror", srv.URL, "--retries", "0")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "sha256 mismatch") || !strings.Contains(stderr, "train-images-idx3-ubyte.gz") {
		t.Errorf("bad checksum: status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "mnist", "*")); len(left) != 0 {
		t.Errorf("a refused download left %v", left)
	}

	const deb = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(deb); err != nil {
		t.Skip("Debian's dataset-fashion-mnist is not installed; skipping the successful fetch")
	}
	// Debian rewrote the gzip headers; fetch.TestFashionMNISTSumsFromDebian
	// shows that these upstream headers restore the registered files.
	files := map[string][]byte{}
	for name, mtime := range map[string]uint32{"train-images-idx3-ubyte.gz": 1504176606, "train-labels-idx1-ubyte.gz": 1504176606,
		"t10k-images-idx3-ubyte.gz": 1504176627, "t10k-labels-idx1-ubyte.gz": 1504176627} {
		b, err := os.ReadFile(filepath.Join(deb, name))
		if err != nil {
			t.Fatal(err)
		}
		up := []byte{0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3}
		binary.LittleEndian.PutUint32(up[4:], mtime)
		up = append(append(up, strings.TrimSuffix(name, ".gz")...), 0)
		files[name] = append(up, b[10:]...)
	}
	spec, _ := fetch.Lookup("fashion-mnist")
	for _, f := range spec.Files {
		if s := sha256.Sum256(files[f.Name]); hex.EncodeToString(s[:]) != f.SHA256 {
			t.Skipf("%s: Debian's copy does not rebuild the upstream file", f.Name)
		}
	}
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer good.Close()
	code, stdout, stderr = kiln(t, context.Background(), "data", "fetch", "fashion-mnist", "--cache", cache, "--mirror", good.URL)
	dir := strings.TrimSpace(stdout)
	if code != 0 || dir != filepath.Join(cache, "fashion-mnist") {
		t.Fatalf("fetch: status %d, %q, %q", code, stdout, stderr)
	}
	src, err := source.DetectSource(dir)
	if err != nil || src.Format != source.FormatIDX || !strings.HasPrefix(src.String(), "Fashion-MNIST") {
		t.Errorf("fetched folder: %v, %v", src, err)
	}
	// Cached: a second fetch needs no server.
	good.Close()
	code, stdout, stderr = kiln(t, context.Background(), "data", "fetch", "fashion-mnist", "--cache", cache, "--mirror", good.URL)
	if code != 0 || strings.TrimSpace(stdout) != dir {
		t.Errorf("cached fetch: status %d, %q, %q", code, stdout, stderr)
	}
}

func TestFetchLine(t *testing.T) {
	for _, tc := range []struct {
		p    fetch.Progress
		want string
	}{
		{fetch.Progress{Dataset: "mnist", File: "a.gz", Done: 5 << 20, Total: 10 << 20}, "mnist: a.gz [============            ] 5.0/10.0 MB"},
		{fetch.Progress{Dataset: "mnist", File: "a.gz", Done: 3 << 19, Total: -1}, "mnist: a.gz 1.5 MB"},
		{fetch.Progress{Dataset: "x", File: "b", Done: 20, Total: 10}, "x: b [========================] 0.0/0.0 MB"},
	} {
		if got := fetchLine(tc.p); got != tc.want {
			t.Errorf("fetchLine(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
