package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/kiln-ml/kiln/internal/cuda/kernelsrc"
)

// moduleKey names a compiled unit: (source hash, compute capability).
type moduleKey = kernelsrc.CacheKey

// Module is a compiled unit loaded into a device's context.
type Module struct {
	d     *Device
	h     uintptr
	Key   moduleKey
	src   string
	mu    sync.Mutex
	funcs map[string]*Function
}

// Function is one kernel of a loaded module, ready to launch.
type Function struct {
	Name   string
	d      *Device // the device whose context loaded it
	h      uintptr
	params []string // the C parameter types when the kernel is kernelsrc's; nil: unchecked
}

// imageCache holds compiled binaries per key for the process, so that each
// (source, compute capability) is compiled once however many devices or
// callers ask; concurrent requests for one key wait for one compile. A
// failed compile is not cached.
type imageCache struct {
	compile func(src string, key moduleKey) ([]byte, error)
	mu      sync.Mutex
	entries map[moduleKey]*imageEntry
}

type imageEntry struct {
	done  chan struct{}
	image []byte
	err   error
}

func (c *imageCache) get(src string, key moduleKey) ([]byte, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[moduleKey]*imageEntry{}
	}
	e, ok := c.entries[key]
	if !ok {
		e = &imageEntry{done: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()
		e.image, e.err = c.compile(src, key)
		if e.err != nil {
			c.mu.Lock()
			delete(c.entries, key)
			c.mu.Unlock()
		}
		close(e.done)
		return e.image, e.err
	}
	c.mu.Unlock()
	<-e.done
	return e.image, e.err
}

var (
	nvrtcOnce sync.Once
	nvrtcFns  *nvrtcAPI
	nvrtcErr  error
	images    = &imageCache{compile: nvrtcCompile}
)

// nvrtcCompile compiles src to a CUBIN for the key's architecture, or to
// PTX for the driver to JIT when this NVRTC does not know the
// architecture (a device newer than the compiler).
func nvrtcCompile(src string, key moduleKey) ([]byte, error) {
	nvrtcOnce.Do(func() { _, nvrtcFns, nvrtcErr = loadNVRTC() })
	if nvrtcErr != nil {
		return nil, nvrtcErr
	}
	img, err := nvrtcBuild(nvrtcFns, src, key.Arch(), true)
	if errors.Is(err, &Error{API: NVRTC, Code: 5}) { // NVRTC_ERROR_INVALID_OPTION
		img, err = nvrtcBuild(nvrtcFns, src, fmt.Sprintf("--gpu-architecture=compute_%d%d", key.Major, key.Minor), false)
	}
	if err != nil {
		return nil, fmt.Errorf("cuda: compiling kernels %s: %w", key, err)
	}
	return img, nil
}

// nvrtcBuild runs one NVRTC compile; the log is part of the error.
func nvrtcBuild(api *nvrtcAPI, src, arch string, cubin bool) ([]byte, error) {
	var pin runtime.Pinner
	defer pin.Unpin()
	cs := func(s string) *byte {
		b := append([]byte(s), 0)
		pin.Pin(&b[0])
		return &b[0]
	}
	var prog uintptr
	if err := nvrtcCheck("nvrtcCreateProgram", api.nvrtcCreateProgram(&prog, cs(src), cs("kiln_kernels.cu"), 0, nil, nil)); err != nil {
		return nil, err
	}
	defer api.nvrtcDestroyProgram(&prog)
	opts := []*byte{cs(arch), cs("--std=c++14")}
	pin.Pin(&opts[0])
	if err := nvrtcCheck("nvrtcCompileProgram", api.nvrtcCompileProgram(prog, int32(len(opts)), unsafe.Pointer(&opts[0]))); err != nil {
		var n uint64
		if api.nvrtcGetProgramLogSize(prog, &n) == 0 && n > 1 {
			log := make([]byte, n)
			api.nvrtcGetProgramLog(prog, &log[0])
			return nil, fmt.Errorf("%w\n%s", err, strings.TrimRight(cString(log), "\n"))
		}
		return nil, err
	}
	size, get, name := api.nvrtcGetPTXSize, api.nvrtcGetPTX, "nvrtcGetPTX"
	if cubin {
		size, get, name = api.nvrtcGetCUBINSize, api.nvrtcGetCUBIN, "nvrtcGetCUBIN"
	}
	var n uint64
	if err := nvrtcCheck(name+"Size", size(prog, &n)); err != nil {
		return nil, err
	}
	img := make([]byte, n)
	if err := nvrtcCheck(name, get(prog, &img[0])); err != nil {
		return nil, err
	}
	return img, nil
}

// Kernels returns kiln's kernels (kernelsrc.Unit) compiled for this device
// and loaded in its context: compiled at the first call of the process for
// this compute capability, loaded at the first call for this device.
func (d *Device) Kernels() (*Module, error) {
	return d.LoadSource(kernelsrc.Unit())
}

// LoadSource compiles (or takes from the cache) and loads a unit of CUDA C.
func (d *Device) LoadSource(src string) (*Module, error) {
	key := kernelsrc.Key(src, d.Major, d.Minor)
	d.modMu.Lock()
	defer d.modMu.Unlock()
	if m, ok := d.mods[key]; ok {
		return m, nil
	}
	img, err := images.get(src, key)
	if err != nil {
		return nil, err
	}
	m := &Module{d: d, Key: key, src: src, funcs: map[string]*Function{}}
	err = d.exec.Do(func() error {
		return cuCheck("cuModuleLoadData", d.api.cuModuleLoadData(&m.h, unsafe.Pointer(&img[0])))
	})
	runtime.KeepAlive(img)
	if err != nil {
		return nil, err
	}
	d.mods[key] = m
	return m, nil
}

// Function looks a kernel up by its extern "C" name.
func (m *Module) Function(name string) (*Function, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.funcs[name]; ok {
		return f, nil
	}
	f := &Function{Name: name, d: m.d}
	for _, k := range kernelsrc.All() {
		if k.Name == name && strings.Contains(m.src, k.Src) {
			f.params, _ = k.Params()
		}
	}
	cname := append([]byte(name), 0)
	err := m.d.exec.Do(func() error {
		return cuCheck("cuModuleGetFunction("+name+")", m.d.api.cuModuleGetFunction(&f.h, m.h, &cname[0]))
	})
	if err != nil {
		return nil, err
	}
	m.funcs[name] = f
	return f, nil
}

func (m *Module) unload() {
	m.d.exec.Do(func() error { return cuCheck("cuModuleUnload", m.d.api.cuModuleUnload(m.h)) })
}
