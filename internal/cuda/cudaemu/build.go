package cudaemu

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// EnvVar turns the emulator on in the test processes that call Setup:
// KILN_CUDA_EMULATOR=1.
const EnvVar = "KILN_CUDA_EMULATOR"

// The environment the emulated libraries read: the cache of compiled
// kernel units and deferred streams.
const (
	cacheEnv    = "KILN_CUDA_EMULATOR_CACHE"
	strictEnv   = "KILN_CUDA_EMULATOR_STRICT"
	DeferredEnv = "KILN_CUDA_EMULATOR_DEFERRED" // DeferredEnv=1: streams run their work only when the host synchronises
)

//go:embed csrc
var csrc embed.FS

// Enabled reports whether KILN_CUDA_EMULATOR=1.
func Enabled() bool { return os.Getenv(EnvVar) == "1" }

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Build compiles the libraries with the host's g++ (once per process) into
// a directory under the temporary directory named by a hash of the
// sources and the compiler's version, so that the test processes of one
// run share it, and returns the directory.
func Build() (string, error) {
	buildOnce.Do(func() { buildDir, buildErr = build() })
	return buildDir, buildErr
}

func build() (string, error) {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		return "", fmt.Errorf("cudaemu: the CUDA emulator needs g++ on PATH: %w", err)
	}
	ver, err := exec.Command(gxx, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("cudaemu: %s --version: %w", gxx, err)
	}
	files, err := sources()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", runtime.GOARCH, ver)
	for _, f := range files {
		fmt.Fprintf(h, "%s\n%d\n%s", f.name, len(f.data), f.data)
	}
	root := filepath.Join(os.TempDir(), fmt.Sprintf("kiln-cudaemu-%d", os.Getuid()))
	dir := filepath.Join(root, hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "libnvrtc.so.13")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("cudaemu: %w", err)
	}
	tmp, err := os.MkdirTemp(root, "build-")
	if err != nil {
		return "", fmt.Errorf("cudaemu: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(tmp, f.name), f.data, 0o644); err != nil {
			return "", fmt.Errorf("cudaemu: %w", err)
		}
	}
	if err := compileAll(gxx, tmp); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "kernels"), 0o755); err != nil {
		return "", fmt.Errorf("cudaemu: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another process built the same sources first: use its directory.
		if _, serr := os.Stat(filepath.Join(dir, "libnvrtc.so.13")); serr == nil {
			return dir, nil
		}
		return "", fmt.Errorf("cudaemu: %w", err)
	}
	return dir, nil
}

type source struct {
	name string
	data []byte
}

// sources returns the embedded C++ and rt.cpp, which holds kernel_abi.h,
// kernel_rt.h and kernel_builtins.h as the string the emulated NVRTC puts
// before every unit.
func sources() ([]source, error) {
	var out []source
	err := fs.WalkDir(csrc, "csrc", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := csrc.ReadFile(p)
		out = append(out, source{filepath.Base(p), b})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cudaemu: %w", err)
	}
	var prelude strings.Builder
	for _, name := range []string{"kernel_abi.h", "kernel_rt.h", "kernel_builtins.h"} {
		for _, f := range out {
			if f.name == name {
				prelude.Write(f.data)
				prelude.WriteString("\n")
			}
		}
	}
	if strings.Contains(prelude.String(), ")KILNRT\"") {
		return nil, errors.New("cudaemu: the kernel prelude holds the raw string's delimiter")
	}
	rt := "extern const char kiln_emu_rt[];\nconst char kiln_emu_rt[] = R\"KILNRT(" + prelude.String() + ")KILNRT\";\n"
	return append(out, source{"rt.cpp", []byte(rt)}), nil
}

// compileAll builds the four libraries in dir: libcuda first, since
// cuBLAS links against it (its work goes on the driver's streams).
func compileAll(gxx, dir string) error {
	common := []string{"-std=c++20", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread"}
	lib := func(name string, extra ...string) func() error {
		return func() error {
			args := append(append(append([]string{}, common...), "-Wl,-soname,"+name, "-o", name), extra...)
			cmd := exec.Command(gxx, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("cudaemu: building %s: %w\n%s", name, err, out)
			}
			return nil
		}
	}
	if err := parallel(
		lib("libcuda.so.1", "driver.cpp", "memory.cpp", "streams.cpp", "-ldl"),
		lib("libnvrtc.so.13", "nvrtc.cpp", "rt.cpp"),
		lib("libcublasLt.so.13", "-x", "c++", "/dev/null"),
	); err != nil {
		return err
	}
	return lib("libcublas.so.13", "cublas.cpp", "-L.", "-l:libcuda.so.1", "-Wl,-rpath,$ORIGIN")()
}

func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Use builds the libraries and makes this process load them: their
// directory goes first on LD_LIBRARY_PATH (internal/cuda's search reads
// it when it loads a library), and compiled kernel units are cached
// beside them. It must run before anything loads CUDA.
func Use() (string, error) {
	dir, err := Build()
	if err != nil {
		return "", err
	}
	path := dir
	if old := os.Getenv("LD_LIBRARY_PATH"); old != "" {
		path += string(os.PathListSeparator) + old
	}
	if err := os.Setenv("LD_LIBRARY_PATH", path); err != nil {
		return "", fmt.Errorf("cudaemu: %w", err)
	}
	if err := os.Setenv(cacheEnv, filepath.Join(dir, "kernels")); err != nil {
		return "", fmt.Errorf("cudaemu: %w", err)
	}
	return dir, nil
}

// Main is a test package's TestMain body: it parses the flags, calls
// Setup and, when the emulator is on, sets *gpu (the package's -gpu flag,
// or nil) so that a GPU test that cannot open it fails instead of
// skipping; then it runs the tests and returns their exit code. A failure
// to build the emulator is reported and fails the run.
func Main(m *testing.M, gpu *bool) int {
	flag.Parse()
	on, err := Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if on && gpu != nil {
		*gpu = true
	}
	return m.Run()
}

// Need skips t unless the emulator is on: for tests of the emulator's
// own checks, and of commands that would otherwise need a GPU.
func Need(t testing.TB) {
	t.Helper()
	if !Enabled() {
		t.Skipf("set %s=1 to run this on the CUDA emulator", EnvVar)
	}
}

// Setup is for a TestMain: with KILN_CUDA_EMULATOR=1 it calls Use and
// reports true, so that the caller can treat a missing GPU as a failure
// (-gpu); otherwise it does nothing. A failure to build is an error, not
// a reason to skip. It turns on the strict mode (KILN_CUDA_EMULATOR_STRICT=1
// unless set): releasing the device with streams, events, modules or
// pinned memory alive is an error.
func Setup() (bool, error) {
	if !Enabled() {
		return false, nil
	}
	// The libraries read these with getenv; reading them here too puts
	// them in go test's cache key, so that a run in another mode is not
	// answered from the cache.
	for _, v := range []string{DeferredEnv, "KILN_CUDA_EMULATOR_FMA", "KILN_CUDA_EMULATOR_CXX", strictEnv} {
		os.Getenv(v)
	}
	if _, set := os.LookupEnv(strictEnv); !set {
		if err := os.Setenv(strictEnv, "1"); err != nil {
			return false, fmt.Errorf("cudaemu: %w", err)
		}
	}
	if _, err := Use(); err != nil {
		return false, err
	}
	return true, nil
}
