package cuda

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Library names, newest first where several majors are in use. The driver
// is always libcuda.so.1; the toolkit libraries carry the CUDA major (NVRTC
// of CUDA 11.2 and later is libnvrtc.so.11.2).
var (
	driverNames   = []string{"libcuda.so.1", "libcuda.so"}
	cublasNames   = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}
	cublasLtNames = []string{"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"}
	nvrtcNames    = []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}
)

// Env reads an environment variable; os.Getenv in production, a map in tests.
type Env func(string) string

// Glob expands a filepath.Glob pattern; filepath.Glob in production.
type Glob func(string) ([]string, error)

// Stat reports whether a regular file (or a link to one) exists at path.
type Stat func(string) bool

// SearchDirs lists, in the order they are tried, the directories where the
// CUDA libraries are looked for: LD_LIBRARY_PATH, CUDA_PATH and CUDA_HOME,
// the distribution's library directories, the toolkit's /usr/local/cuda*
// (newest version first), WSL's driver directory, the NVIDIA container
// toolkit's, and every nvidia/*/lib of the usual Python site-packages
// (where pip's nvidia-cublas-cu12, nvidia-cuda-nvrtc-cu12 and the cu13
// wheels put them). Stub directories are never listed: their libcuda only
// answers CUDA_ERROR_STUB_LIBRARY. Duplicates are dropped, first kept.
func SearchDirs(env Env, glob Glob) []string {
	var dirs []string
	add := func(ds ...string) {
		for _, d := range ds {
			if d != "" && !strings.Contains(d, "/stubs") {
				dirs = append(dirs, filepath.Clean(d))
			}
		}
	}
	globNewest := func(pattern string) {
		m, _ := glob(pattern)
		sort.Sort(sort.Reverse(versionOrder(m)))
		add(m...)
	}
	add(filepath.SplitList(env("LD_LIBRARY_PATH"))...)
	for _, v := range []string{"CUDA_PATH", "CUDA_HOME"} {
		if root := env(v); root != "" {
			add(filepath.Join(root, "lib64"), filepath.Join(root, "lib"))
		}
	}
	add("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
		"/usr/local/nvidia/lib64", "/usr/lib/wsl/lib",
		"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib")
	globNewest("/usr/local/cuda-*/lib64")
	globNewest("/usr/local/cuda-*/targets/x86_64-linux/lib")
	for _, sp := range sitePackages(env, glob) {
		globNewest(filepath.Join(sp, "nvidia", "*", "lib"))
	}
	return dedup(dirs)
}

// sitePackages lists the Python package directories worth a look: the
// active virtualenv or conda environment first, then the user's, pyenv's
// and the system's.
func sitePackages(env Env, glob Glob) []string {
	var pats []string
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if root := env(v); root != "" {
			pats = append(pats, filepath.Join(root, "lib", "python3*", "site-packages"))
		}
	}
	if home := env("HOME"); home != "" {
		pats = append(pats,
			filepath.Join(home, ".local", "lib", "python3*", "site-packages"),
			filepath.Join(home, ".pyenv", "versions", "*", "lib", "python3*", "site-packages"),
			filepath.Join(home, "miniconda3", "lib", "python3*", "site-packages"),
			filepath.Join(home, "anaconda3", "lib", "python3*", "site-packages"))
	}
	pats = append(pats,
		"/opt/conda/lib/python3*/site-packages",
		"/usr/local/lib/python3*/dist-packages",
		"/usr/local/lib/python3*/site-packages",
		"/usr/lib/python3/dist-packages",
		"/usr/lib/python3*/site-packages")
	var out []string
	for _, p := range pats {
		m, _ := glob(p)
		sort.Sort(sort.Reverse(versionOrder(m)))
		out = append(out, m...)
	}
	return out
}

// Find returns every existing path dir/name, dirs in order and, within a
// directory, names in order, with the full list of paths it looked at (for
// the error when nothing loads). It touches nothing but stat, so a test can
// lay out a fake tree.
func Find(dirs, names []string, stat Stat) (found, tried []string) {
	for _, d := range dirs {
		for _, n := range names {
			p := filepath.Join(d, n)
			tried = append(tried, p)
			if stat(p) {
				found = append(found, p)
			}
		}
	}
	return found, tried
}

// osStat is the production Stat: a file, or a symbolic link to a file.
func osStat(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func dedup(ds []string) []string {
	seen := make(map[string]bool, len(ds))
	out := ds[:0]
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// versionOrder sorts paths so that numeric runs compare as numbers:
// cuda-12.10 after cuda-12.9, python3.12 after python3.9.
type versionOrder []string

func (v versionOrder) Len() int           { return len(v) }
func (v versionOrder) Swap(i, j int)      { v[i], v[j] = v[j], v[i] }
func (v versionOrder) Less(i, j int) bool { return versionLess(v[i], v[j]) }

func versionLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := leadingNumber(a)
			nb, rb := leadingNumber(b)
			if na != nb {
				return na < nb
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func leadingNumber(s string) (int, string) {
	n, i := 0, 0
	for i < len(s) && isDigit(s[i]) && n < 1<<30 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return n, s[i:]
}
