package cuda

import (
	"errors"
	"fmt"
)

// API says which CUDA library returned a status code; the same number means
// different things in each.
type API uint8

// The libraries whose status codes Error knows.
const (
	Driver API = iota // CUresult, from cuda.h
	Cublas            // cublasStatus_t, from cublas_api.h
	NVRTC             // nvrtcResult, from nvrtc.h
)

// String names the C type the codes belong to.
func (a API) String() string {
	switch a {
	case Driver:
		return "CUresult"
	case Cublas:
		return "cublasStatus_t"
	case NVRTC:
		return "nvrtcResult"
	}
	return fmt.Sprintf("API(%d)", uint8(a))
}

// Error is a failed CUDA call: which function, which library, which code.
// Its text reads "cuda: cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2): out of
// memory".
type Error struct {
	Func string // the C function that failed, e.g. "cuMemAlloc"
	API  API
	Code int32
}

// Error reads "cuda: <func>: <NAME> (<code>): <meaning>".
func (e *Error) Error() string {
	name, msg := CodeName(e.API, e.Code)
	return fmt.Sprintf("cuda: %s: %s (%d): %s", e.Func, name, e.Code, msg)
}

// Is matches another *Error of the same library and code, whatever the
// function: errors.Is(err, ErrOutOfMemory).
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.API == e.API && t.Code == e.Code
}

// Sentinels for the codes callers branch on.
var (
	// ErrOutOfMemory is CUDA_ERROR_OUT_OF_MEMORY: the caching allocator
	// frees its cache and retries once when a cuMemAlloc returns it.
	ErrOutOfMemory = &Error{Func: "(any)", API: Driver, Code: 2}
	// ErrNotReady is CUDA_ERROR_NOT_READY: an event or stream query found
	// work still running; not a failure.
	ErrNotReady = &Error{Func: "(any)", API: Driver, Code: 600}
	// ErrNoDevice is CUDA_ERROR_NO_DEVICE: a driver but no GPU.
	ErrNoDevice = &Error{Func: "(any)", API: Driver, Code: 100}
)

// CodeName returns a status code's name and one-line meaning from the
// tables in errtable.go; a code missing from the table (a newer CUDA) gets
// "<API>(<code>)" and "code not in kiln's table".
func CodeName(api API, code int32) (name, msg string) {
	var tab map[int32]codeInfo
	switch api {
	case Driver:
		tab = cuResults
	case Cublas:
		tab = cublasStatuses
	case NVRTC:
		tab = nvrtcResults
	}
	if c, ok := tab[code]; ok {
		return c.name, c.msg
	}
	return fmt.Sprintf("%v(%d)", api, code), "code not in kiln's table (a newer CUDA?)"
}

// check turns a status code into nil or an *Error.
func check(api API, fn string, code int32) error {
	if code == 0 {
		return nil
	}
	return &Error{Func: fn, API: api, Code: code}
}

func cuCheck(fn string, code int32) error     { return check(Driver, fn, code) }
func cublasCheck(fn string, code int32) error { return check(Cublas, fn, code) }
func nvrtcCheck(fn string, code int32) error  { return check(NVRTC, fn, code) }

type codeInfo struct{ name, msg string }
