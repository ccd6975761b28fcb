package golden

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tiny = `{"torch": "1.13.0", "group": "tiny", "cases": [
 {"name": "a", "attrs": {"stride": [2, 1], "bias": true, "eps": 1e-05, "norm_type": "inf", "op": "relu"},
  "tensors": {
  "x": {"shape": [2, 3], "data": [0.1, -2.5, 3.0, 1e-08, -0.0, 16777217]},
  "s": {"shape": [], "data": [1.00000005960464477550]},
  "e": {"shape": [0, 4], "data": []}
 }},
 {"name": "b", "attrs": {}, "tensors": {}}
]}
`

func TestParseValues(t *testing.T) {
	f, err := Parse(strings.NewReader(tiny))
	if err != nil {
		t.Fatal(err)
	}
	if f.Torch != "1.13.0" || f.Group != "tiny" || len(f.Cases) != 2 {
		t.Fatalf("got torch %q group %q %d cases", f.Torch, f.Group, len(f.Cases))
	}
	c := f.Cases[0]
	x := c.T(t, "x")
	if got, want := x.Shape, []int{2, 3}; !equalInts(got, want) {
		t.Errorf("x shape %v, want %v", got, want)
	}
	// 16777217 is not a float32; it must round to 16777216.
	wantX := []float32{0.1, -2.5, 3, 1e-8, float32(math.Copysign(0, -1)), 16777216}
	for i, w := range wantX {
		if math.Float32bits(x.Data[i]) != math.Float32bits(w) {
			t.Errorf("x[%d] = %g (bits %x), want %g (bits %x)", i, x.Data[i], math.Float32bits(x.Data[i]), w, math.Float32bits(w))
		}
	}
	// This decimal lies just above the float32 midpoint 1+2^-24. Rounding via
	// float64 lands on the midpoint and ties to 1; rounding once gives the
	// next float32 up. The loader must round once.
	if got, want := c.Scalar(t, "s"), math.Nextafter32(1, 2); got != want {
		t.Errorf("s = %.10g, want %.10g: parse rounded twice", got, want)
	}
	if e := c.T(t, "e"); len(e.Data) != 0 || !equalInts(e.Shape, []int{0, 4}) {
		t.Errorf("empty tensor: %+v", e)
	}
	if f.Cases[1].Attrs == nil {
		t.Error("empty attrs should be an empty map, not nil")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", `nope`, "want a JSON object"},
		{"no group", `{"torch": "x", "cases": []}`, "missing \"group\""},
		{"unknown field", `{"group": "g", "cases": [], "extra": 1}`, "unknown field"},
		{"trailing", `{"group": "g", "cases": []} {}`, "trailing data"},
		{"unnamed case", `{"group": "g", "cases": [{"attrs": {}, "tensors": {}}]}`, "has no name"},
		{"duplicate case", `{"group": "g", "cases": [{"name": "a"}, {"name": "a"}]}`, "duplicate case"},
		{"short data", `{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"shape": [2, 2], "data": [1, 2, 3]}}}]}`, "wants 4 values, data has 3"},
		{"scalar without data", `{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"shape": [], "data": []}}}]}`, "wants 1 values"},
		{"missing shape", `{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"data": [1]}}}]}`, "missing \"shape\""},
		{"negative dim", `{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"shape": [-1], "data": []}}}]}`, "negative or too large"},
		{"huge shape", `{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"shape": [65536, 65536, 65536], "data": []}}}]}`, "negative or too large"},
		{"float32 overflow", `{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"shape": [1], "data": [1e39]}}}]}`, "want a JSON object"},
		{"string datum", `{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"shape": [1], "data": ["1"]}}}]}`, "want a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "golden: ") {
				t.Fatalf("err = %v, want a golden: error containing %q", err, tc.want)
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte, zip bool) {
	t.Helper()
	if zip {
		var b bytes.Buffer
		z := gzip.NewWriter(&b)
		if _, err := z.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadGroup(t *testing.T) {
	for _, tc := range []struct {
		name      string
		plain, gz bool
		group     string // the group the file claims
		want      string // error substring; "" for success
		notExist  bool
	}{
		{name: "plain", plain: true, group: "tiny"},
		{name: "gzip", gz: true, group: "tiny"},
		{name: "both", plain: true, gz: true, group: "tiny", want: "both"},
		{name: "neither", want: "regenerate", notExist: true},
		{name: "wrong group", plain: true, group: "other", want: `holds group "other"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			body := []byte(strings.Replace(tiny, `"group": "tiny"`, `"group": "`+tc.group+`"`, 1))
			if tc.plain {
				writeFile(t, filepath.Join(dir, "tiny.json"), body, false)
			}
			if tc.gz {
				writeFile(t, filepath.Join(dir, "tiny.json.gz"), body, true)
			}
			f, err := ReadGroup(dir, "tiny")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(f.Cases) != 2 || f.Cases[0].T(t, "x").Data[2] != 3 {
					t.Fatalf("read %+v", f)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if tc.notExist != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", !tc.notExist, tc.notExist)
			}
		})
	}
}

func TestReadFileBadGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.json.gz")
	writeFile(t, path, []byte(tiny), false) // plain text under a .gz name
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "want gzip data") {
		t.Fatalf("err = %v, want a gzip error", err)
	}
}

func TestDirFindsMakePy(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "make.py")); err != nil {
		t.Fatalf("Dir() = %s, which lacks make.py: %v", dir, err)
	}
}

func TestLoadMissingGroupIsFatal(t *testing.T) {
	f := withFake(func(tb testing.TB) { Load(tb, "no-such-group") })
	if !f.fatal || !strings.Contains(f.text(), "no-such-group") {
		t.Fatalf("fatal=%v msgs=%q, want a fatal naming the group", f.fatal, f.msgs)
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
