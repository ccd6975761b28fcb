package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebitengine/purego"
)

// Library is one shared library loaded with dlopen.
type Library struct {
	Name   string  // what was asked for, e.g. "libcuda.so.1"
	Path   string  // the path dlopen accepted, or the bare name if the system loader found it
	handle uintptr // dlopen's handle
}

// NotFoundError says that a library could not be loaded and lists every path
// that was tried, with dlopen's reason for each file that existed but did
// not load.
type NotFoundError struct {
	Lib    string            // the library's role, e.g. "CUDA driver"
	Names  []string          // the file names looked for
	Tried  []string          // every path stat-ed, in order
	Failed map[string]string // path or bare name -> dlopen's error
}

// Error lists the library, every path tried and why each existing file failed.
func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cuda: %s (%s) not found or not loadable; looked for %s in %d places: %s",
		e.Lib, e.Names[0], strings.Join(e.Names, ", "), len(e.Tried), strings.Join(e.Tried, ", "))
	fmt.Fprintf(&b, "; and asked the system loader for %s", strings.Join(e.Names, ", "))
	for _, p := range append(append([]string(nil), e.Tried...), e.Names...) {
		if why, ok := e.Failed[p]; ok {
			fmt.Fprintf(&b, "; %s: %s", p, why)
		}
	}
	return b.String()
}

// dlopener opens a library by path or bare name; purego.Dlopen in
// production, a fake in tests.
type dlopener func(path string) (uintptr, error)

func sysDlopen(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

// openFirst tries the found paths in order, then the bare names through the
// system loader (ld.so.cache, the standard paths), and returns the first
// that dlopen accepts. When none does, the error names everything tried.
func openFirst(role string, names, dirs []string, stat Stat, open dlopener) (*Library, error) {
	found, tried := Find(dirs, names, stat)
	failed := map[string]string{}
	for _, p := range found {
		h, err := open(p)
		if err == nil {
			return &Library{Name: names[0], Path: p, handle: h}, nil
		}
		failed[p] = err.Error()
	}
	for _, n := range names {
		h, err := open(n)
		if err == nil {
			return &Library{Name: n, Path: n, handle: h}, nil
		}
		failed[n] = err.Error()
	}
	return nil, &NotFoundError{Lib: role, Names: names, Tried: tried, Failed: failed}
}

// symbol binds one C function to a Go func variable.
type symbol struct {
	name string
	fn   any // pointer to a func variable
}

// bind resolves every symbol before registering any, so a library that
// lacks one fails with the full list of what is missing.
func bind(lib *Library, syms []symbol) error {
	addrs := make([]uintptr, len(syms))
	var missing []string
	for i, s := range syms {
		a, err := purego.Dlsym(lib.handle, s.name)
		if err != nil || a == 0 {
			missing = append(missing, s.name)
			continue
		}
		addrs[i] = a
	}
	if len(missing) > 0 {
		return fmt.Errorf("cuda: %s lacks %s (too old a version?)", lib.Path, strings.Join(missing, ", "))
	}
	for i, s := range syms {
		purego.RegisterFunc(s.fn, addrs[i])
	}
	return nil
}

// defaultDirs is the production search: the process's environment, the
// real filesystem.
func defaultDirs() []string {
	return SearchDirs(os.Getenv, filepath.Glob)
}

// loadDriver loads libcuda.so.1 and binds the driver API (see driverAPI).
// It does not call cuInit.
func loadDriver() (*Library, *driverAPI, error) {
	lib, err := openFirst("CUDA driver", driverNames, defaultDirs(), osStat, sysDlopen)
	if err != nil {
		return nil, nil, err
	}
	api := &driverAPI{}
	if err := bind(lib, api.symbols()); err != nil {
		return nil, nil, err
	}
	return lib, api, nil
}

// loadNVRTC loads libnvrtc (and, first, its libnvrtc-builtins from the same
// directory, which pip's wheels do not put on the loader's path) and binds
// the compiler API.
func loadNVRTC() (*Library, *nvrtcAPI, error) {
	dirs := defaultDirs()
	found, _ := Find(dirs, nvrtcNames, osStat)
	for _, p := range found {
		builtins, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "libnvrtc-builtins.so.*"))
		for _, b := range builtins {
			sysDlopen(b) // best effort: a failure shows up as nvrtcCompileProgram's error
		}
	}
	lib, err := openFirst("NVRTC", nvrtcNames, dirs, osStat, sysDlopen)
	if err != nil {
		return nil, nil, err
	}
	api := &nvrtcAPI{}
	if err := bind(lib, api.symbols()); err != nil {
		return nil, nil, err
	}
	return lib, api, nil
}

// loadCublas loads libcublasLt then libcublas (libcublas needs Lt, and a
// wheel directory is not on the loader's path, so Lt goes first with
// RTLD_GLOBAL) and binds the SGEMM API.
func loadCublas() (*Library, *cublasAPI, error) {
	dirs := defaultDirs()
	_, errLt := openFirst("cuBLASLt", cublasLtNames, dirs, osStat, sysDlopen)
	lib, err := openFirst("cuBLAS", cublasNames, dirs, osStat, sysDlopen)
	if err != nil {
		if errLt != nil {
			return nil, nil, errors.Join(err, errLt)
		}
		return nil, nil, err
	}
	api := &cublasAPI{}
	if err := bind(lib, api.symbols()); err != nil {
		return nil, nil, err
	}
	return lib, api, nil
}
