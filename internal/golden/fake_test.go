package golden

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// fakeTB records failures instead of failing the real test, so tests can
// assert that the package reports what it should. Methods it does not
// override panic through the nil embedded TB, which flags any unexpected use.
type fakeTB struct {
	testing.TB
	msgs  []string
	fatal bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Error(args ...any) { f.msgs = append(f.msgs, fmt.Sprint(args...)) }

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.fatal = true
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) {
	f.Error(args...)
	f.fatal = true
	runtime.Goexit()
}

func (f *fakeTB) failed() bool { return len(f.msgs) > 0 }

func (f *fakeTB) text() string { return strings.Join(f.msgs, "\n") }

// withFake runs fn on a fresh fakeTB in its own goroutine, so that a Fatal
// (runtime.Goexit) ends only fn.
func withFake(fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}
