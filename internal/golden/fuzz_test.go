package golden

import (
	"bytes"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts keeps
// its promises: named, unique cases and tensors whose data fits their shape.
func FuzzParse(f *testing.F) {
	f.Add([]byte(tiny))
	f.Add([]byte(`{"group": "g", "cases": []}`))
	f.Add([]byte(`{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"shape": [2, 2], "data": [1, 2, 3]}}}]}`))
	f.Add([]byte(`{"group": "g", "cases": [{"name": "a", "tensors": {"x": {"shape": [], "data": [1e-45]}}}]}`))
	f.Add([]byte(`{"group": "g", "cases": [{"name": "a", "attrs": {"k": [1, "inf", null]}, "tensors": {"x": {"shape": [-1, -1], "data": [1]}}}]}`))
	f.Add([]byte(`{"group":"g","cases":[{"name":"a","tensors":{"x":{"shape":[3037000500,3037000500],"data":[]}}}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		if file.Group == "" {
			t.Fatal("accepted a file without a group")
		}
		seen := map[string]bool{}
		for _, c := range file.Cases {
			if c.Name == "" || seen[c.Name] {
				t.Fatalf("accepted case name %q twice or empty", c.Name)
			}
			seen[c.Name] = true
			if c.Attrs == nil || c.Tensors == nil {
				t.Fatal("nil maps in an accepted case")
			}
			for name, v := range c.Tensors {
				n := 1
				for _, d := range v.Shape {
					if d < 0 {
						t.Fatalf("tensor %s: negative dim in %v", name, v.Shape)
					}
					n *= d
				}
				if n != len(v.Data) {
					t.Fatalf("tensor %s: shape %v but %d values", name, v.Shape, len(v.Data))
				}
			}
		}
	})
}
