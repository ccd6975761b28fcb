package backend

// This file lets backends outside this package (the CUDA one, behind a
// build tag) register themselves by name, as image formats do, so that
// only a binary built with them links them in.

import (
	"fmt"
	"sort"
	"sync"
)

var (
	regMu   sync.Mutex
	openers = map[string]func(Options) (Backend, error){}
)

// Options are what a command line may ask of a backend as it opens.
type Options struct {
	// TF32 lets matrix products round their inputs to TensorFloat-32 on
	// tensor cores (torch.backends.cuda.matmul.allow_tf32): about 1e-3
	// relative error for several times the speed. Only CUDA has it.
	TF32 bool
}

// Register makes a backend available to Open under name. Backend packages
// call it from init; registering a name twice panics.
func Register(name string, open func(Options) (Backend, error)) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := openers[name]; dup || name == "cpu" {
		panic("backend: Register called twice for " + name)
	}
	openers[name] = open
}

// NotBuiltError is Open's error for a backend this binary was built
// without.
type NotBuiltError struct {
	Name  string
	Built []string // the backends this binary has
}

func (e *NotBuiltError) Error() string {
	return fmt.Sprintf("backend: this kiln was built without the %s backend (it has %v); build one with: go build -tags %s ./cmd/kiln",
		e.Name, e.Built, e.Name)
}

// Names returns the backends this binary has, sorted: "cpu" and those
// registered.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	names := []string{"cpu"}
	for n := range openers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open returns the backend called name, "cpu" or one registered, set up
// with opt. A name this binary lacks gives a *NotBuiltError; a registered
// backend that cannot start (no GPU, no driver) gives its own error.
func Open(name string, opt Options) (Backend, error) {
	if name == "cpu" {
		if opt.TF32 {
			return nil, fmt.Errorf("backend: cpu has no TF32 mode; TF32 is for cuda")
		}
		return NewCPU(), nil
	}
	regMu.Lock()
	open, ok := openers[name]
	regMu.Unlock()
	if !ok {
		return nil, &NotBuiltError{Name: name, Built: Names()}
	}
	b, err := open(opt)
	if err != nil {
		return nil, fmt.Errorf("backend: %s: %w", name, err)
	}
	return b, nil
}
