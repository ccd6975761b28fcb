package golden

// This file reads golden files. It leaves out writing them (make.py does that)
// and any caching: each Load parses its file afresh, so callers may mutate what
// they get.

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Tensor is a float32 array in row-major order; len(Data) is the product of Shape.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Case is one golden example: the settings in Attrs and named tensors.
type Case struct {
	Name    string
	Attrs   map[string]any
	Tensors map[string]Tensor
}

// File is one parsed golden file.
type File struct {
	Torch string // the torch.__version__ that made the values
	Group string
	Cases []Case
}

// maxElems bounds one tensor's element count, so a corrupt shape cannot
// overflow the product that checks it.
const maxElems = 1 << 28

type jsonFile struct {
	Torch string     `json:"torch"`
	Group string     `json:"group"`
	Cases []jsonCase `json:"cases"`
}

type jsonCase struct {
	Name    string                `json:"name"`
	Attrs   map[string]any        `json:"attrs"`
	Tensors map[string]jsonTensor `json:"tensors"`
}

type jsonTensor struct {
	Shape []int `json:"shape"`
	// encoding/json parses into float32 with strconv.ParseFloat(s, 32), so
	// each number is rounded once, straight to float32: torch's exact bits.
	Data []float32 `json:"data"`
}

// Parse reads one golden file's JSON from r and checks that it is well formed:
// a group name, uniquely named cases, and tensors whose data matches their shape.
func Parse(r io.Reader) (File, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var jf jsonFile
	if err := dec.Decode(&jf); err != nil {
		return File{}, fmt.Errorf("golden: want a JSON object {torch, group, cases}: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return File{}, errors.New("golden: trailing data after the JSON object")
	}
	if jf.Group == "" {
		return File{}, errors.New("golden: missing \"group\"")
	}
	f := File{Torch: jf.Torch, Group: jf.Group, Cases: make([]Case, 0, len(jf.Cases))}
	seen := make(map[string]bool, len(jf.Cases))
	for i, jc := range jf.Cases {
		if jc.Name == "" {
			return File{}, fmt.Errorf("golden: group %s: case %d has no name", jf.Group, i)
		}
		if seen[jc.Name] {
			return File{}, fmt.Errorf("golden: group %s: duplicate case %q", jf.Group, jc.Name)
		}
		seen[jc.Name] = true
		c := Case{Name: jc.Name, Attrs: jc.Attrs, Tensors: make(map[string]Tensor, len(jc.Tensors))}
		if c.Attrs == nil {
			c.Attrs = map[string]any{}
		}
		for name, jt := range jc.Tensors {
			if err := checkShape(jt.Shape, len(jt.Data)); err != nil {
				return File{}, fmt.Errorf("golden: group %s: case %s: tensor %s: %w", jf.Group, jc.Name, name, err)
			}
			c.Tensors[name] = Tensor{Shape: jt.Shape, Data: jt.Data}
		}
		f.Cases = append(f.Cases, c)
	}
	return f, nil
}

func checkShape(shape []int, have int) error {
	if shape == nil {
		return errors.New("missing \"shape\"")
	}
	n := 1
	for _, d := range shape {
		if d < 0 || d > maxElems || n*d > maxElems {
			return fmt.Errorf("shape %v is negative or too large", shape)
		}
		n *= d
	}
	if have != n {
		return fmt.Errorf("shape %v wants %d values, data has %d", shape, n, have)
	}
	return nil
}

// ReadFile parses the golden file at path, gunzipping it when the name ends in ".gz".
func ReadFile(path string) (File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("golden: %w", err)
	}
	defer fh.Close()
	var r io.Reader = fh
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(fh)
		if err != nil {
			return File{}, fmt.Errorf("golden: %s: want gzip data: %w", path, err)
		}
		defer z.Close()
		r = z
	}
	f, err := Parse(r)
	if err != nil {
		return File{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return f, nil
}

// ReadGroup reads dir/<group>.json or dir/<group>.json.gz (exactly one must
// exist) and checks that the file names the same group.
func ReadGroup(dir, group string) (File, error) {
	plain := filepath.Join(dir, group+".json")
	gz := plain + ".gz"
	_, errPlain := os.Stat(plain)
	_, errGz := os.Stat(gz)
	var path string
	switch {
	case errPlain == nil && errGz == nil:
		return File{}, fmt.Errorf("golden: both %s and %s exist; rerun make.py to remove the stale one", plain, gz)
	case errPlain == nil:
		path = plain
	case errGz == nil:
		path = gz
	default:
		return File{}, fmt.Errorf("golden: want %s or its .gz (regenerate with testdata/golden/make.py): %w", plain, fs.ErrNotExist)
	}
	f, err := ReadFile(path)
	if err != nil {
		return File{}, err
	}
	if f.Group != group {
		return File{}, fmt.Errorf("golden: %s holds group %q, want %q", path, f.Group, group)
	}
	return f, nil
}

// Dir returns the directory holding the golden files, testdata/golden under
// the module root. It looks beside this source file first and then walks up
// from the working directory, so it also works under -trimpath.
func Dir() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, d := range starts {
		for {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				return filepath.Join(d, "testdata", "golden"), nil
			}
			up := filepath.Dir(d)
			if up == d {
				break
			}
			d = up
		}
	}
	return "", errors.New("golden: cannot find the module root (a directory with go.mod)")
}

// Load returns the cases of testdata/golden/<group>.json, failing the test if
// the file is missing or malformed.
func Load(t testing.TB, group string) []Case {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadGroup(dir, group)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("golden: group %s has no cases", group)
	}
	return f.Cases
}
