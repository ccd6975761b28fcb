package kernelsrc

import (
	"strings"
	"testing"
)

// FuzzParams feeds arbitrary definitions to the signature parser: it must
// never panic, and whatever it accepts has only the launchable types and as
// many of them as the parameter list has commas plus one.
func FuzzParams(f *testing.F) {
	for _, k := range All() {
		f.Add(k.Name, k.Src)
	}
	f.Add("f", `extern "C" __global__ void f(float *x, const int *  y)`)
	f.Add("f", `extern "C" __global__ void f()`)
	f.Add("f", `extern "C" __global__ void f(float* , int)`)
	f.Fuzz(func(t *testing.T, name, src string) {
		ps, err := Kernel{name, src}.Params()
		if err != nil {
			return
		}
		for _, p := range ps {
			if !paramTypes[p] {
				t.Fatalf("accepted type %q", p)
			}
		}
		m := sigRE.FindStringSubmatch(src)
		if want := strings.Count(m[2], ",") + 1; len(ps) != want {
			t.Fatalf("%d types from %q", len(ps), m[2])
		}
	})
}
