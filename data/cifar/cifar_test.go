package cifar

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data"
)

var _ data.Dataset = (*Dataset)(nil)

// record builds one record whose red plane is all r, green all g, blue all b.
func record(v Variant, coarse, label, r, g, b byte) []byte {
	var out []byte
	if v == CIFAR100 {
		out = append(out, coarse)
	}
	out = append(out, label)
	for _, c := range []byte{r, g, b} {
		out = append(out, bytes.Repeat([]byte{c}, 1024)...)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		v      Variant
		in     []byte
		labels []uint8
		coarse []uint8
		want   string // error substring
	}{
		{"cifar10", CIFAR10, append(record(CIFAR10, 0, 3, 1, 2, 3), record(CIFAR10, 0, 9, 4, 5, 6)...), []uint8{3, 9}, nil, ""},
		{"cifar100", CIFAR100, append(record(CIFAR100, 19, 99, 1, 2, 3), record(CIFAR100, 4, 0, 0, 0, 0)...), []uint8{99, 0}, []uint8{19, 4}, ""},
		{"empty", CIFAR10, nil, nil, nil, "0 bytes is not a whole"},
		{"partial record", CIFAR10, record(CIFAR10, 0, 1, 1, 1, 1)[:3000], nil, nil, "3000 bytes is not a whole, non-zero number of 3073-byte CIFAR-10 records"},
		{"cifar100 read as 10", CIFAR10, record(CIFAR100, 0, 1, 1, 1, 1), nil, nil, "3074 bytes"},
		{"unknown variant", Variant(7), record(CIFAR10, 0, 1, 1, 1, 1), nil, nil, "unknown variant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse(tc.in, tc.v)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Labels, tc.labels) || !bytes.Equal(b.Coarse, tc.coarse) {
				t.Fatalf("labels %v coarse %v, want %v %v", b.Labels, b.Coarse, tc.labels, tc.coarse)
			}
			if b.Len() != len(tc.labels) || len(b.Pixels) != b.Len()*ImageBytes {
				t.Fatalf("Len %d with %d pixel bytes", b.Len(), len(b.Pixels))
			}
			// First record: red plane 1, green 2, blue 3.
			for c, want := range []byte{1, 2, 3} {
				if got := b.Pixels[c*1024+517]; got != want {
					t.Errorf("plane %d pixel = %d, want %d", c, got, want)
				}
			}
		})
	}
}

func TestReadClassNames(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		err  string
	}{
		{"meta", "airplane\nautomobile\nbird\n\n", []string{"airplane", "automobile", "bird"}, ""},
		{"crlf and spaces", " cat \r\ndog\r\n", []string{"cat", "dog"}, ""},
		{"empty", "\n\n", nil, "0 class names"},
		{"too many", strings.Repeat("x\n", 257), nil, "257 class names"},
		{"too long", strings.Repeat("abcdefghijklmno\n", 5000), nil, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadClassNames(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDatasetGet(t *testing.T) {
	b, err := Parse(append(record(CIFAR100, 1, 2, 0, 51, 255), record(CIFAR100, 0, 1, 255, 0, 102)...), CIFAR100)
	if err != nil {
		t.Fatal(err)
	}
	fine, err := NewDataset(b, []string{"a", "b", "c"}, false)
	if err != nil {
		t.Fatal(err)
	}
	coarse, err := NewDataset(b, []string{"x", "y"}, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		d      *Dataset
		i      int
		label  int
		planes [3]float32
	}{
		{"fine 0", fine, 0, 2, [3]float32{0, 0.2, 1}},
		{"fine 1", fine, 1, 1, [3]float32{1, 0, 0.4}},
		{"coarse 0", coarse, 0, 1, [3]float32{0, 0.2, 1}},
		{"coarse 1", coarse, 1, 0, [3]float32{1, 0, 0.4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]float32, ImageBytes)
			label, err := tc.d.Get(tc.i, x, nil)
			if err != nil {
				t.Fatal(err)
			}
			if label != tc.label {
				t.Errorf("label %d, want %d", label, tc.label)
			}
			for j, v := range x {
				if want := tc.planes[j/1024]; v != want {
					t.Fatalf("x[%d] = %v, want %v", j, v, want)
				}
			}
		})
	}
	if got := coarse.Labels(); got[0] != 1 || got[1] != 0 {
		t.Errorf("coarse Labels %v", got)
	}
	if got := fine.CoarseLabels(); len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Errorf("CoarseLabels %v", got)
	}
	if !equalInts(fine.Shape(), []int{3, 32, 32}) || fine.Len() != 2 {
		t.Errorf("Shape %v Len %d", fine.Shape(), fine.Len())
	}
	for _, bad := range []struct{ i, n int }{{-1, ImageBytes}, {2, ImageBytes}, {0, ImageBytes - 1}} {
		if _, err := fine.Get(bad.i, make([]float32, bad.n), nil); err == nil {
			t.Errorf("Get(%d) with %d values: no error", bad.i, bad.n)
		}
	}
}

func TestNewDatasetErrors(t *testing.T) {
	b10, _ := Parse(record(CIFAR10, 0, 5, 0, 0, 0), CIFAR10)
	b100, _ := Parse(record(CIFAR100, 20, 0, 0, 0, 0), CIFAR100)
	tests := []struct {
		name    string
		b       *Batch
		classes []string
		coarse  bool
		want    string
	}{
		{"label out of range", b10, []string{"a", "b"}, false, "record 0 has label 5: want 0 to 1"},
		{"coarse of cifar10", b10, []string{"a"}, true, "has none"},
		{"coarse out of range", b100, make([]string, 20), true, "label 20"},
		{"no classes", b10, nil, false, "no class names"},
		{"inconsistent", &Batch{Labels: []uint8{0}}, []string{"a"}, false, "0 pixel bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDataset(tc.b, tc.classes, tc.coarse)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func writeFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad10(t *testing.T) {
	files := map[string][]byte{
		"batches.meta.txt": []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"),
		"test_batch.bin":   record(CIFAR10, 0, 7, 0, 0, 0),
	}
	for i := 1; i <= 5; i++ {
		files["data_batch_"+string(rune('0'+i))+".bin"] = append(record(CIFAR10, 0, byte(i), 0, 0, 0), record(CIFAR10, 0, 0, byte(i), 0, 0)...)
	}
	dir := writeFiles(t, files)
	train, err := Load10(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := train.Labels(); !equalInts(got, []int{1, 0, 2, 0, 3, 0, 4, 0, 5, 0}) {
		t.Errorf("train labels %v", got)
	}
	if train.Classes()[9] != "truck" || len(train.Classes()) != 10 {
		t.Errorf("classes %v", train.Classes())
	}
	x := make([]float32, ImageBytes)
	if _, err := train.Get(9, x, nil); err != nil || x[0] != float32(5)/255 {
		t.Errorf("record 9 (batch 5): x[0] = %v, err %v", x[0], err)
	}
	test, err := Load10(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if test.Len() != 1 || test.Labels()[0] != 7 || test.CoarseLabels() != nil {
		t.Errorf("test labels %v coarse %v", test.Labels(), test.CoarseLabels())
	}

	tests := []struct {
		name   string
		remove string
		patch  map[string][]byte
		want   string
	}{
		{"missing meta", "batches.meta.txt", nil, "batches.meta.txt"},
		{"missing batch", "data_batch_3.bin", nil, "data_batch_3.bin"},
		{"torn batch", "", map[string][]byte{"data_batch_2.bin": make([]byte, 100)}, "data_batch_2.bin"},
		{"label beyond meta", "", map[string][]byte{"batches.meta.txt": []byte("a\nb\n")}, "label 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string][]byte{}
			for k, v := range files {
				if k != tc.remove {
					m[k] = v
				}
			}
			for k, v := range tc.patch {
				m[k] = v
			}
			_, err := Load10(writeFiles(t, m), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoad100(t *testing.T) {
	dir := writeFiles(t, map[string][]byte{
		"fine_label_names.txt":   []byte(strings.Repeat("f\n", 100)),
		"coarse_label_names.txt": []byte(strings.Repeat("c\n", 20)),
		"train.bin":              append(record(CIFAR100, 19, 99, 0, 0, 0), record(CIFAR100, 3, 42, 0, 0, 0)...),
		"test.bin":               record(CIFAR100, 1, 2, 0, 0, 0),
	})
	tests := []struct {
		train, coarse bool
		labels        []int
		nclass        int
	}{
		{true, false, []int{99, 42}, 100},
		{true, true, []int{19, 3}, 20},
		{false, false, []int{2}, 100},
		{false, true, []int{1}, 20},
	}
	for _, tc := range tests {
		d, err := Load100(dir, tc.train, tc.coarse)
		if err != nil {
			t.Fatal(err)
		}
		if !equalInts(d.Labels(), tc.labels) || len(d.Classes()) != tc.nclass {
			t.Errorf("train=%v coarse=%v: labels %v, %d classes; want %v, %d", tc.train, tc.coarse, d.Labels(), len(d.Classes()), tc.labels, tc.nclass)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
