package cuda

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeTree lays out empty files under a temporary root and returns an Env
// and Glob that see the root as "/" (a test's Stat joins the root back).
func fakeTree(t *testing.T, env map[string]string, files ...string) (string, Env, Glob) {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := func(k string) string { return env[k] }
	g := func(pat string) ([]string, error) {
		m, err := filepath.Glob(filepath.Join(root, pat))
		for i := range m {
			m[i] = "/" + strings.TrimPrefix(m[i], root+"/")
		}
		return m, err
	}
	return root, e, g
}

func TestSearchDirsOrder(t *testing.T) {
	_, env, glob := fakeTree(t, map[string]string{
		"LD_LIBRARY_PATH": "/opt/mine/lib:/opt/other",
		"HOME":            "/home/u",
		"VIRTUAL_ENV":     "/venv",
	},
		"usr/local/cuda-12.9/lib64/libcublas.so.12",
		"usr/local/cuda-12.10/lib64/libcublas.so.12",
		"usr/local/cuda-11.8/lib64/libcublas.so.11",
		"usr/local/cuda-12.4/lib64/stubs/libcuda.so",
		"venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12",
		"venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
		"home/u/.local/lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13",
		"usr/lib/python3/dist-packages/nvidia/cudnn/lib/libcudnn.so.9",
	)
	dirs := SearchDirs(env, glob)
	want := []string{"/opt/mine/lib", "/opt/other", "/usr/lib/x86_64-linux-gnu"}
	if !slices.Equal(dirs[:3], want) {
		t.Fatalf("first dirs = %q, want %q", dirs[:3], want)
	}
	idx := func(d string) int {
		i := slices.Index(dirs, d)
		if i < 0 {
			t.Fatalf("%s not in search dirs %q", d, dirs)
		}
		return i
	}
	// Newest toolkit first, numerically (12.10 > 12.9).
	if !(idx("/usr/local/cuda-12.10/lib64") < idx("/usr/local/cuda-12.9/lib64") &&
		idx("/usr/local/cuda-12.9/lib64") < idx("/usr/local/cuda-11.8/lib64")) {
		t.Errorf("toolkits out of version order: %q", dirs)
	}
	// The virtualenv before the user's site-packages before the system's.
	if !(idx("/venv/lib/python3.12/site-packages/nvidia/cublas/lib") < idx("/home/u/.local/lib/python3.11/site-packages/nvidia/cu13/lib") &&
		idx("/home/u/.local/lib/python3.11/site-packages/nvidia/cu13/lib") < idx("/usr/lib/python3/dist-packages/nvidia/cudnn/lib")) {
		t.Errorf("site-packages out of order: %q", dirs)
	}
	idx("/venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib")
	idx("/usr/lib/wsl/lib")
	idx("/usr/local/cuda/lib64")
	for _, d := range dirs {
		if strings.Contains(d, "stubs") {
			t.Errorf("stub directory %s searched: its libcuda only returns CUDA_ERROR_STUB_LIBRARY", d)
		}
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			t.Errorf("%s listed twice", d)
		}
		seen[d] = true
	}
}

func TestFindInFakeTree(t *testing.T) {
	root, env, glob := fakeTree(t, map[string]string{"HOME": "/home/u"},
		"usr/local/cuda-12.4/lib64/libnvrtc.so.12",
		"home/u/.local/lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13",
		"home/u/.local/lib/python3.11/site-packages/nvidia/cu13/lib/libcublas.so.13",
	)
	stat := func(p string) bool { return osStat(filepath.Join(root, p)) }
	dirs := SearchDirs(env, glob)
	found, tried := Find(dirs, nvrtcNames, stat)
	want := []string{"/usr/local/cuda-12.4/lib64/libnvrtc.so.12", "/home/u/.local/lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13"}
	if !slices.Equal(found, want) {
		t.Errorf("found %q, want %q", found, want)
	}
	if len(tried) != len(dirs)*len(nvrtcNames) {
		t.Errorf("tried %d paths, want every dir x name = %d", len(tried), len(dirs)*len(nvrtcNames))
	}
	if found, _ := Find(dirs, driverNames, stat); len(found) != 0 {
		t.Errorf("found a driver in a tree without one: %q", found)
	}
}

func TestOpenFirstFallsThrough(t *testing.T) {
	dirs := []string{"/a", "/b", "/c"}
	stat := func(p string) bool { return p == "/a/libcuda.so.1" || p == "/c/libcuda.so" }
	var opened []string
	open := func(p string) (uintptr, error) {
		opened = append(opened, p)
		if p == "/c/libcuda.so" {
			return 42, nil
		}
		return 0, errors.New("wrong ELF class")
	}
	lib, err := openFirst("CUDA driver", driverNames, dirs, stat, open)
	if err != nil {
		t.Fatal(err)
	}
	if lib.Path != "/c/libcuda.so" || lib.handle != 42 {
		t.Errorf("got %+v", lib)
	}
	if !slices.Equal(opened, []string{"/a/libcuda.so.1", "/c/libcuda.so"}) {
		t.Errorf("opened %q", opened)
	}
}

func TestOpenFirstErrorNamesEveryPath(t *testing.T) {
	dirs := []string{"/a", "/usr/lib/wsl/lib"}
	stat := func(p string) bool { return p == "/a/libcuda.so.1" }
	open := func(p string) (uintptr, error) { return 0, errors.New("no such file " + p) }
	_, err := openFirst("CUDA driver", driverNames, dirs, stat, open)
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want *NotFoundError", err)
	}
	msg := err.Error()
	for _, s := range []string{"cuda: CUDA driver (libcuda.so.1)", "/a/libcuda.so.1", "/a/libcuda.so",
		"/usr/lib/wsl/lib/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so", "system loader",
		"/a/libcuda.so.1: no such file /a/libcuda.so.1", "libcuda.so.1: no such file libcuda.so.1"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error lacks %q:\n%s", s, msg)
		}
	}
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{
		{"cuda-12.9", "cuda-12.10", true},
		{"cuda-12.10", "cuda-12.9", false},
		{"python3.9", "python3.12", true},
		{"cuda-11.8", "cuda-12.0", true},
		{"a", "ab", true},
		{"x", "x", false},
	} {
		if got := versionLess(c.a, c.b); got != c.less {
			t.Errorf("versionLess(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// FuzzVersionLess checks the path order on arbitrary strings: no panic, and
// never both a < b and b < a (sort.Sort needs a strict weak order).
func FuzzVersionLess(f *testing.F) {
	f.Add("cuda-12.9", "cuda-12.10")
	f.Add("python3.99999999999999999999", "python3.1")
	f.Add("", "0")
	f.Fuzz(func(t *testing.T, a, b string) {
		if versionLess(a, b) && versionLess(b, a) {
			t.Fatalf("%q < %q and %q < %q", a, b, b, a)
		}
		if versionLess(a, a) {
			t.Fatalf("%q < itself", a)
		}
	})
}
