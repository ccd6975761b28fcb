package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiln-ml/kiln/data/idx"
)

// TestFashionMNISTSumsFromDebian checks the registered Fashion-MNIST sums
// against Debian's copy of the dataset, where installed. Debian's files hold
// the upstream deflate streams behind a rewritten gzip header (no file name,
// a 2020 timestamp); putting back the upstream header (FNAME flag, the
// 2017-08-31 timestamps found by search, XFL 0, OS 3 = Unix) must give the
// upstream files: their MD5 from Fashion-MNIST's README, and their SHA-256
// as registered.
func TestFashionMNISTSumsFromDebian(t *testing.T) {
	const dir = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("dataset-fashion-mnist not installed")
	}
	spec, _ := Lookup("fashion-mnist")
	upstream := map[string][]byte{}
	tests := []struct {
		file  string
		mtime uint32
		md5   string // from the upstream README
	}{
		{"train-images-idx3-ubyte.gz", 1504176606, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
		{"train-labels-idx1-ubyte.gz", 1504176606, "25c81989df183df01b3e8a0aad5dffbe"},
		{"t10k-images-idx3-ubyte.gz", 1504176627, "bef4ecab320f06d8554ea6380940ec79"},
		{"t10k-labels-idx1-ubyte.gz", 1504176627, "bb300cfdad3c16e7a12a480ee83cd310"},
	}
	for i, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			deb, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(deb) < 10 || deb[0] != 0x1f || deb[1] != 0x8b || deb[3]&0x1e != 0 {
				t.Fatalf("%s: not a gzip file with a bare 10-byte header", tc.file)
			}
			up := []byte{0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3}
			binary.LittleEndian.PutUint32(up[4:], tc.mtime)
			up = append(up, tc.file[:len(tc.file)-len(".gz")]...)
			up = append(up, 0)
			up = append(up, deb[10:]...)

			upstream[tc.file] = up
			m := md5.Sum(up)
			s := sha256.Sum256(up)
			f := spec.Files[i]
			if f.Name != tc.file {
				t.Fatalf("registry file %d is %s, want %s", i, f.Name, tc.file)
			}
			if got := hex.EncodeToString(m[:]); got != tc.md5 {
				t.Fatalf("rebuilt file has MD5 %s, not upstream's %s: the reconstruction is wrong", got, tc.md5)
			}
			if got := hex.EncodeToString(s[:]); got != f.SHA256 || int64(len(up)) != f.Size {
				t.Errorf("upstream file has SHA-256 %s and %d bytes; registry says %s and %d", got, len(up), f.SHA256, f.Size)
			}
		})
	}

	// End to end: the real registry entry, served locally, fetched and read.
	if testing.Short() || t.Failed() {
		return
	}
	srv := newServer(t, upstream, nil)
	got, err := Fetch(context.Background(), "fashion-mnist", Options{CacheDir: t.TempDir(), BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, train := range []bool{true, false} {
		d, err := idx.LoadSplit(got, train, idx.FashionMNISTClasses())
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 60000, false: 10000}[train]; d.Len() != want {
			t.Errorf("fetched split has %d images, want %d", d.Len(), want)
		}
	}
}
