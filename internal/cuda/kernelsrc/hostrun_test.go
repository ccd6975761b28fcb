package kernelsrc

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// This file runs kernels on the host: the unit, compiled by g++ over
// cxxShim with one block of one thread (so every grid-stride loop visits
// every index in order), behind a driver that reads each launch's
// arguments on stdin and writes the arrays back. It checks what the
// kernels compute where no GPU is at hand; shared-memory reductions and
// warp shuffles, which one thread does not exercise, are left to the GPU
// tests.

// launch is one kernel call: its arguments are []float32 and []int32
// (device arrays, overwritten with what the kernel leaves in them), int
// and float32.
type launch struct {
	name string
	args []any
}

// driver returns C++ that calls the named kernels with arguments read
// from stdin: per launch "name nargs", then per argument "f n v..." (a
// float array, hex floats), "i n v..." (an int array), "s v" (an int) or
// "x v" (a float); it answers each launch with its arrays and "end".
func driver(names []string) (string, error) {
	var b strings.Builder
	b.WriteString(`
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
union kilnArg { float* f; int* i; int n; float x; };
`)
	byName := map[string]Kernel{}
	for _, k := range All() {
		byName[k.Name] = k
	}
	for _, name := range names {
		k, ok := byName[name]
		if !ok {
			return "", fmt.Errorf("no kernel %s", name)
		}
		ps, err := k.Params()
		if err != nil {
			return "", err
		}
		var args []string
		for j, p := range ps {
			field := map[string]string{"float*": "f", "const float*": "f", "int*": "i", "const int*": "i", "int": "n", "float": "x"}[p]
			args = append(args, fmt.Sprintf("a[%d].%s", j, field))
		}
		fmt.Fprintf(&b, "static void call_%s(kilnArg* a) { %s(%s); }\n", name, name, strings.Join(args, ", "))
	}
	b.WriteString(`
static float readf() { char s[64]; if (scanf("%63s", s) != 1) exit(2); return strtof(s, 0); }
int main() {
	blockDim.x = gridDim.x = 1;
	char name[64];
	int nargs;
	while (scanf("%63s %d", name, &nargs) == 2) {
		std::vector<kilnArg> a(nargs);
		std::vector<std::vector<float> > fs(nargs);
		std::vector<std::vector<int> > is(nargs);
		std::vector<char> kind(nargs);
		for (int j = 0; j < nargs; j++) {
			int n = 0;
			if (scanf(" %c", &kind[j]) != 1) return 2;
			switch (kind[j]) {
			case 'f':
				if (scanf("%d", &n) != 1) return 2;
				fs[j].resize(n + 1);
				for (int k = 0; k < n; k++) fs[j][k] = readf();
				a[j].f = fs[j].data();
				break;
			case 'i':
				if (scanf("%d", &n) != 1) return 2;
				is[j].resize(n + 1);
				for (int k = 0; k < n; k++) if (scanf("%d", &is[j][k]) != 1) return 2;
				a[j].i = is[j].data();
				break;
			case 's':
				if (scanf("%d", &a[j].n) != 1) return 2;
				break;
			default:
				a[j].x = readf();
			}
		}
`)
	for i, name := range names {
		if i > 0 {
			b.WriteString(" else")
		}
		fmt.Fprintf(&b, "\t\tif (!strcmp(name, %q)) call_%s(a.data());\n", name, name)
	}
	b.WriteString(`		else return 3;
		for (int j = 0; j < nargs; j++) {
			if (kind[j] == 'f') {
				for (size_t k = 0; k + 1 < fs[j].size(); k++) printf("%a ", fs[j][k]);
				printf("\n");
			} else if (kind[j] == 'i') {
				for (size_t k = 0; k + 1 < is[j].size(); k++) printf("%d ", is[j][k]);
				printf("\n");
			}
		}
		printf("end\n");
		fflush(stdout);
	}
	return 0;
}
`)
	return b.String(), nil
}

// runOnHost compiles the unit with a driver for the launches' kernels
// and runs them in order, each array argument overwritten with the
// kernel's result. It skips where there is no g++.
func runOnHost(t *testing.T, launches []launch) {
	t.Helper()
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ on this machine")
	}
	var names []string
	seen := map[string]bool{}
	for _, l := range launches {
		if !seen[l.name] {
			seen[l.name] = true
			names = append(names, l.name)
		}
	}
	drv, err := driver(names)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	shim, src, bin := filepath.Join(dir, "shim.h"), filepath.Join(dir, "run.cc"), filepath.Join(dir, "run")
	if err := os.WriteFile(shim, []byte(cxxShim), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte(Unit()+drv), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gxx, "-O0", "-w", "-x", "c++", "-include", shim, "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("g++: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the driver: %v", err)
		}
	}()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	next := func(name string) []string {
		if !sc.Scan() {
			t.Fatalf("%s: the driver's output ends early", name)
		}
		return strings.Fields(sc.Text())
	}
	// One launch at a time, each reading what the ones before it left in
	// the arrays, as launches on one stream do.
	for _, l := range launches {
		var in strings.Builder
		fmt.Fprintf(&in, "%s %d\n", l.name, len(l.args))
		for _, a := range l.args {
			switch v := a.(type) {
			case []float32:
				fmt.Fprintf(&in, "f %d", len(v))
				for _, x := range v {
					in.WriteString(" " + strconv.FormatFloat(float64(x), 'x', -1, 32))
				}
			case []int32:
				fmt.Fprintf(&in, "i %d", len(v))
				for _, x := range v {
					fmt.Fprintf(&in, " %d", x)
				}
			case int:
				fmt.Fprintf(&in, "s %d", v)
			case float32:
				in.WriteString("x " + strconv.FormatFloat(float64(v), 'x', -1, 32))
			default:
				t.Fatalf("%s: argument of type %T", l.name, a)
			}
			in.WriteString("\n")
		}
		if _, err := io.WriteString(stdin, in.String()); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		for _, a := range l.args {
			switch v := a.(type) {
			case []float32:
				f := next(l.name)
				if len(f) != len(v) {
					t.Fatalf("%s: %d values back for an array of %d", l.name, len(f), len(v))
				}
				for i, s := range f {
					x, err := strconv.ParseFloat(s, 32)
					if err != nil {
						t.Fatalf("%s: %q: %v", l.name, s, err)
					}
					v[i] = float32(x)
				}
			case []int32:
				f := next(l.name)
				if len(f) != len(v) {
					t.Fatalf("%s: %d ints back for an array of %d", l.name, len(f), len(v))
				}
				for i, s := range f {
					x, err := strconv.Atoi(s)
					if err != nil {
						t.Fatal(err)
					}
					v[i] = int32(x)
				}
			}
		}
		if f := next(l.name); len(f) != 1 || f[0] != "end" {
			t.Fatalf("%s: driver output %q, want end", l.name, f)
		}
	}
}

// closeRel fails t unless got and want agree within tol relative to
// max(1, |want|).
func closeRel(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol*math.Max(1, math.Abs(float64(want[i])))) {
			t.Fatalf("%s[%d] = %v, reference %v", what, i, got[i], want[i])
		}
	}
}
